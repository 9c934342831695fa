/**
 * order-completed: a completed sales order becomes an installation request ticket carrying the
 * customer, site, equipment and deployment settings (id derived from the order: one ticket per order).
 */
import type { Order, Ticket } from '../../../shared/schemas/index.ts';
import type { Workflow } from '../types.ts';
import { became, compact, read, ticketIdFor, writeDoc, type Draft } from './support.ts';

export const ORDER_TO_TICKET_PRIORITY: Readonly<Record<NonNullable<Order['priority']>, NonNullable<Ticket['priority']>>> = {
  low: 'p4', normal: 'p3', high: 'p2', urgent: 'p1',
};

export function orderCompletedWorkflow(): Workflow {
  return {
    name: 'order-completed',
    description: 'Creates the installation request ticket of an order that became completed.',
    trigger: {
      collection: 'orders',
      when: (change) => became(change, (doc) => doc['status'] === 'completed'),
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const order = await read(ctx, 'orders', payload.id);
      if (!order || order.status !== 'completed') return;
      const id = ticketIdFor(ctx.tenantId, order.id);
      await writeDoc(ctx, 'tickets', id, (current) => {
        if (current) return undefined;
        const ticket: Draft<'tickets'> = compact({
          id, tenantId: ctx.tenantId, type: 'installation_request', status: 'open',
          priority: ORDER_TO_TICKET_PRIORITY[order.priority ?? 'normal'],
          orderId: order.id, orderNumber: order.orderNumber,
          customer: order.customer, serviceAddress: order.serviceAddress, location: order.location,
          equipment: order.equipment, deployment: order.deployment,
          _deleted: false,
        });
        return ticket;
      });
    },
  };
}

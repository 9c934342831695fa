/**
 * order-progress: the order behind a ticket follows it to the end. When the ticket closes (its
 * job was completed: job-progress), the order is `closed`; when a closed ticket opens again (the
 * job was reopened), the order goes back to `completed`. A cancelled order is left alone.
 *
 * Reads the ticket as it is now, so runs for quick successive changes leave the order matching
 * the ticket's latest status whatever order they finish in.
 */
import type { Workflow } from '../types.ts';
import { read, writeDoc } from './support.ts';

export function orderProgressWorkflow(): Workflow {
  return {
    name: 'order-progress',
    description: 'Closes the order of a closed ticket, and opens it again (completed) when the ticket reopens.',
    trigger: {
      collection: 'tickets',
      when: (change) => !change.after._deleted && typeof change.after['orderId'] === 'string'
        && change.after['status'] !== (change.before?._deleted ? undefined : change.before?.['status']),
      // Per change: closed → reopened → closed again must close the order again.
      key: (change) => `${change.id}@${change.seq}`,
    },
    async run(ctx, payload) {
      const ticket = await read(ctx, 'tickets', payload.id);
      if (!ticket || !ticket.orderId) return;
      const closed = ticket.status === 'closed';
      await writeDoc(ctx, 'orders', ticket.orderId, (order) => {
        if (!order || order._deleted || order.status === 'cancelled') return undefined;
        if (closed && order.status !== 'closed') return { ...order, status: 'closed' as const };
        if (!closed && ticket.status !== 'cancelled' && order.status === 'closed') return { ...order, status: 'completed' as const };
        return undefined;
      });
    },
  };
}

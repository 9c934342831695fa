import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { INTEGRATIONS_BASE_PATH } from '../../shared/protocol/index.ts';
import { orderIntakeRoutes, type OrderIntakeRoutesOptions } from './routes.ts';

export interface OrderIntakePluginOptions {
  /** The replay window's clock (tests); defaults to Date.now. */
  now?: OrderIntakeRoutesOptions['now'];
}

/** `INTEGRATIONS.orderEvent`: orders arrive from the agency's order system, HMAC-signed (docs/protocol.md §28). */
export const orderIntakePlugin = fp(async (app: FastifyInstance, options: OrderIntakePluginOptions) => {
  await app.register(orderIntakeRoutes, {
    prefix: INTEGRATIONS_BASE_PATH, toleranceSeconds: app.config.orderIntakeToleranceSeconds, ...(options.now ? { now: options.now } : {}),
  });
}, {
  name: 'fieldsync-order-intake', fastify: '5.x', encapsulate: true,
  dependencies: ['fieldsync-store', 'fieldsync-hooks'],
  decorators: { fastify: ['store'] },
});

import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerClientApps } from './static.ts';

export interface AppsPluginOptions {
  /** The built apps to serve at `/`, `/crew/`, … (default dist/client when it exists); false serves none. */
  clientDir?: string | false;
}

/** The built apps (sign-in, crew, MDT, technician, dispatch) and their service worker, when a build exists. */
export const appsPlugin = fp(async (app: FastifyInstance, options: AppsPluginOptions) => {
  if (options.clientDir === false) return;
  await registerClientApps(app, options.clientDir ? { root: options.clientDir } : {});
}, { name: 'fieldsync-apps', fastify: '5.x', dependencies: ['fieldsync-http'] });

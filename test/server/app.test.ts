import { rmSync } from 'node:fs';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { authPlugin } from '../../server/auth/plugin.ts';
import { resolveServerConfig } from '../../server/config.ts';
import { hooksPlugin } from '../../server/hooks/plugin.ts';
import { WorkflowRegistry } from '../../server/hooks/registry.ts';
import { httpPlugin } from '../../server/http/plugin.ts';
import { syncPlugin } from '../../server/replication/plugin.ts';
import { storePlugin } from '../../server/store-plugin.ts';
import { makeDataDir } from '../helpers/server.ts';

// buildServer is an ordered list of capability plugins; each names the plugins it needs, so a
// list put in the wrong order fails when the server is built, not at the first request.
describe('the capability plugins', () => {
  it('a capability registered before one it needs stops the server from starting, naming what is missing', async () => {
    const dataDir = makeDataDir('plugin-order');
    const config = resolveServerConfig({ dataDir, logLevel: 'silent' });
    const app = Fastify({ logger: false });
    try {
      await app.register(httpPlugin, { config });
      await app.register(storePlugin, { config, planner: new WorkflowRegistry() });
      // Sync before auth: it needs the authenticator.
      await expect(app.register(syncPlugin, { config, policies: [] })).rejects.toThrow(/'auth' required by 'fieldsync-sync'/);
    } finally {
      await app.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('in the right order the same plugins start and stop', async () => {
    const dataDir = makeDataDir('plugin-order');
    const config = resolveServerConfig({ dataDir, logLevel: 'silent' });
    const app = Fastify({ logger: false });
    const workflows = new WorkflowRegistry();
    try {
      await app.register(httpPlugin, { config });
      await app.register(storePlugin, { config, planner: workflows });
      await app.register(authPlugin, { config });
      await app.register(hooksPlugin, { workflows });
      await app.register(syncPlugin, { config, policies: [] });
      await app.ready();
      expect(app.hasDecorator('collectionRegistry')).toBe(true);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

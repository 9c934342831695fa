import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../../server/config.ts';
import { openStore } from '../../../server/store/store-factory.ts';
import { makeDataDir, OPS_HEADERS, startTestServer } from '../../helpers/server.ts';
import { PgSchemas, SKIP_POSTGRES, TEST_DATABASE_URL } from './fixtures.ts';

const schemas = new PgSchemas();
afterAll(async () => { await schemas.dropAll(); });

describe('choosing the store', () => {
  it('STORE, DATABASE_URL and DATABASE_SCHEMA are read and checked', () => {
    expect(readConfig({})).toMatchObject({ storeKind: 'sqlite', databaseUrl: undefined, databaseSchema: 'public' });
    expect(readConfig({ STORE: 'postgres', DATABASE_URL: 'postgres://u:p@db:5432/fs', DATABASE_SCHEMA: 'fieldsync' }))
      .toMatchObject({ storeKind: 'postgres', databaseUrl: 'postgres://u:p@db:5432/fs', databaseSchema: 'fieldsync' });
    expect(() => readConfig({ STORE: 'postgres' })).toThrow(ConfigError);
    expect(() => readConfig({ STORE: 'mysql' })).toThrow(ConfigError);
    expect(() => readConfig({ DATABASE_URL: 'http://db' })).toThrow(ConfigError);
    expect(() => readConfig({ DATABASE_SCHEMA: 'a-b' })).toThrow(ConfigError);
  });

  it('openStore() defaults to SQLite', async () => {
    const dataDir = makeDataDir('factory');
    const store = await openStore({ dataDir });
    expect(store.kind).toBe('sqlite');
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(SKIP_POSTGRES)('a server built with storeKind postgres runs on PostgreSQL', async () => {
    const schema = await schemas.create();
    const server = await startTestServer({ storeKind: 'postgres', databaseUrl: TEST_DATABASE_URL, databaseSchema: schema });
    try {
      expect(server.app.store.kind).toBe('postgres');
      const ready = await fetch(`${server.url}/ready`, { headers: OPS_HEADERS });
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ store: 'postgres', database: 'reachable' });
      const tables = await schemas.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
      // Identity and the sign-in limits live beside the documents, so every process shares them.
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual([
        'agency_settings', 'artifacts', 'attachment_finished_uploads', 'attachment_links', 'attachment_objects', 'attachment_upload_chunks', 'attachment_uploads', 'audit', 'audit_documents', 'documents', 'head',
        'identity_device_credentials', 'identity_devices', 'identity_dpop_proofs', 'identity_refresh_tokens', 'identity_revocations',
        'identity_secrets', 'identity_sessions', 'identity_transport_keys', 'identity_users',
        'leases', 'outbox', 'quarantine', 'rate_limits',
      ]);
    } finally {
      await server.close();
    }
  });
});

import { buildServer } from './app.ts';
import { DEMO_TENANT, demoCredentialsText, seedDemoTenant } from './auth/demo.ts';
import { seedAgencySettings } from './demo/agency.ts';
import { ConfigError, readConfig } from './config.ts';
import { ensureClientBuilt } from './apps/static.ts';
import { seedDemoData } from './demo/index.ts';

/** `npm start`: the server on embedded SQLite (or PostgreSQL with STORE=postgres), configured from the environment. */
async function main(): Promise<void> {
  let config;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`fieldsync: configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // The apps are served from dist/client: build them first when missing or older than their sources.
  try {
    if (config.buildApps) await ensureClientBuilt();
  } catch (error) {
    console.error('fieldsync: the apps could not be built; serving the API only:', error instanceof Error ? error.message : error);
  }
  const app = await buildServer(config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (config.seedDemo) {
    // Idempotent: only when the demo agency does not exist yet.
    const { created } = await seedDemoTenant(app.identities);
    if (created) {
      app.log.info('created the demo agency "demo" with one user per role');
      // Its data too, written like real data so the hooks run on it: the runner starts when the app is ready.
      await app.ready();
      const { claimed } = await seedDemoData(app, { dataDir: config.dataDir });
      app.log.info(claimed
        ? 'wrote the demo data: units M1-M3, calls D-1001..D-1003, a billed report with its claim, job SO-2001 for T1'
        : 'wrote the demo data, but the finished report was not billed in time, so it has no claim (see the hook log)');
    } else if (await seedAgencySettings({ app, tenantId: DEMO_TENANT, now: new Date() })) {
      // A demo agency made before agencies had settings: its exports need its NEMSIS identity.
      app.log.info('gave the demo agency "demo" its NEMSIS identity and DEMDataSet settings');
    }
  }
  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info(`fieldsync listening on ${address} (data in ${config.storeKind === 'postgres' ? `PostgreSQL schema ${config.databaseSchema}` : config.dataDir}, store ${app.store.kind})`);
  if (config.seedDemo && ['info', 'debug', 'trace'].includes(config.logLevel)) console.log(demoCredentialsText());
  if (config.seedDemo && config.jwtSecret === undefined) {
    const where = config.storeKind === 'postgres' ? 'in the database (with the transport-key secret)' : 'in DATA_DIR';
    app.log.warn(`demo server: the demo agency has published passwords and the signing key is kept ${where}; for real use set JWT_SECRET${config.storeKind === 'postgres' ? ', TRANSPORT_KEY_SECRET' : ''} and NODE_ENV=production (README, "Running in production")`);
  }
  if (config.devTokens) app.log.warn('DEV_TOKENS is on: anyone who reaches this server can claim any identity in any agency (development only)');
}

main().catch((error: unknown) => {
  console.error('fieldsync: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});

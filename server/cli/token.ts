/**
 * `npm run token -- --tenant T --role crew --unit M1 [--device D] [--ttl S] [--technician T1]`
 *
 * Mints a signed access token for a device, with the server's key (JWT_SECRET, or the key in
 * DATA_DIR/jwt-secret) and its own session in DATA_DIR/identity.sqlite, so an admin can revoke
 * it like any other (`ADMIN.revokeDevice`). The token alone goes to stdout:
 * `TOKEN=$(npm run -s token -- --tenant demo --role dispatcher)`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ROLES, type Role } from '../../shared/protocol/index.ts';
import { openIdentity } from '../auth/identity-store-factory.ts';
import { SecretError } from '../auth/secret.ts';
import { PostgresStore } from '../store/postgres.ts';
import { openStore } from '../store/store-factory.ts';
import { AuthService } from '../auth/service.ts';
import { AUTH_DEFAULTS, ConfigError, readConfig } from '../config.ts';

const DEFAULT_TTL_SECONDS = 8 * 3600;
const MAX_TTL_SECONDS = 30 * 24 * 3600;

function fail(message: string, code = 2): never {
  console.error(`token: ${message}`);
  console.error('usage: npm run token -- --tenant <agency> --role <crew|dispatcher|technician|biller|admin> [--unit <call sign>] [--technician <id>] [--device <id>] [--ttl <seconds>]');
  process.exit(code);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        tenant: { type: 'string' }, role: { type: 'string' }, unit: { type: 'string' }, technician: { type: 'string' },
        device: { type: 'string' }, ttl: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (args.help) fail('mints a signed device token', 0);
  const tenantId = args.tenant ?? fail('--tenant is required');
  const role = args.role ?? fail('--role is required');
  if (!(ROLES as readonly string[]).includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
  if (role === 'crew' && !args.unit) fail('a crew token needs --unit (the unit\'s call sign, e.g. M1)');
  if (role === 'technician' && !args.technician) fail('a technician token needs --technician (the assignee id of their jobs)');
  const ttl = args.ttl === undefined ? DEFAULT_TTL_SECONDS : /^[0-9]{1,9}$/.test(args.ttl) ? Number(args.ttl) : NaN;
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) fail(`--ttl must be whole seconds from 1 to ${MAX_TTL_SECONDS}`);
  const deviceId = args.device ?? `cli-${role}-${randomBytes(3).toString('hex')}`;

  let config;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
  // On PostgreSQL the session goes where every server process checks it (identity-store-factory.ts).
  const store = config.storeKind === 'postgres' ? await openStore(config) : undefined;
  let close = async () => { await store?.close(); };
  try {
    const opened = await openIdentity({
      dataDir: config.dataDir, jwtSecret: config.jwtSecret, transportKeySecret: config.transportKeySecret,
      allowGenerated: config.devTokens || config.seedDemo, accessTokenTtlSeconds: config.accessTokenTtlSeconds ?? AUTH_DEFAULTS.accessTokenTtlSeconds,
    }, store instanceof PostgresStore ? { pool: store.connections, schema: store.schema } : undefined);
    const { identities, jwtKey: key } = opened;
    close = async () => { await identities.close(); await store?.close(); };
    const service = new AuthService({
      identities, secret: key.secret, devTokens: config.devTokens,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds ?? AUTH_DEFAULTS.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: config.refreshTokenTtlSeconds ?? AUTH_DEFAULTS.refreshTokenTtlSeconds,
    });
    const token = await service.mintDeviceToken({
      tenantId, role: role as Role, deviceId, ttlSeconds: ttl,
      ...(args.unit ? { unitId: args.unit } : {}), ...(args.technician ? { technicianId: args.technician } : {}),
    });
    console.error(`token for ${role}${args.unit ? ` of unit ${args.unit}` : ''}${args.technician ? ` ${args.technician}` : ''} in agency ${tenantId}, device ${deviceId}, valid ${ttl} s (key: ${key.source === 'env' ? 'JWT_SECRET' : key.source === 'database' ? 'kept in the database' : key.file})`);
    console.log(token);
  } catch (error) {
    if (error instanceof SecretError) fail(error.message);
    fail(error instanceof Error ? error.message : String(error), 1);
  } finally {
    await close();
  }
}

void main();

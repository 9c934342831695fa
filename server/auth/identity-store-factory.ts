/**
 * The one place the identity database is chosen, by the store kind: with the PostgreSQL document
 * store, identity lives in PostgreSQL too (same schema, same pool), so every process shares it;
 * otherwise in DATA_DIR/identity.sqlite. The signing key and the sign-in rate limits follow.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { RateCounter } from './hardening.ts';
import { PostgresIdentityStore } from './identity-store-postgres.ts';
import { SqliteIdentityStore, type IdentityStore } from './identity-store.ts';
import { PostgresRateCounter } from './rate-limit-postgres.ts';
import { MIN_SECRET_LENGTH, resolveJwtSecret, SecretError, type ResolvedSecret } from './secret.ts';

export interface IdentitySettings {
  dataDir: string;
  jwtSecret: string | undefined;
  transportKeySecret: string | undefined;
  /** A demo or development server (SEED_DEMO or DEV_TOKENS): may make its own keys. */
  allowGenerated: boolean;
  accessTokenTtlSeconds: number;
  /** How often a PostgreSQL process re-reads the revocation list (default 500 ms). */
  revocationPollMs?: number;
}

export interface OpenedIdentity {
  identities: IdentityStore;
  jwtKey: ResolvedSecret;
  /** Where the sign-in limits count when shared (PostgreSQL); absent: each process's memory. */
  rateCounter?: RateCounter;
  /** Trial keys kept in the database (said once in the log). */
  generatedInDatabase: string[];
}

/** `postgres`: the document store's pool and schema when it is PostgreSQL. */
export async function openIdentity(settings: IdentitySettings, postgres?: { pool: pg.Pool; schema: string }, log?: (message: string) => void): Promise<OpenedIdentity> {
  if (!postgres) {
    const jwtKey = resolveJwtSecret({ configured: settings.jwtSecret, allowGenerated: settings.allowGenerated, dataDir: settings.dataDir });
    return { identities: new SqliteIdentityStore(settings.dataDir), jwtKey, generatedInDatabase: [] };
  }
  const generatedInDatabase: string[] = [];
  // Every process must sign with one key (else A's tokens are refused on B) and open transport keys
  // with one key. A deployment sets both; a trial server keeps one made by its first process in the database.
  const shared = async (name: string, configured: string | undefined, setting: string): Promise<string> => {
    if (configured !== undefined) {
      if (configured.length < MIN_SECRET_LENGTH) throw new SecretError(`${setting} must be at least ${MIN_SECRET_LENGTH} characters`);
      return configured;
    }
    if (!settings.allowGenerated) throw new SecretError(`${setting} is required with PostgreSQL (the same for every process) unless the server is a demo (SEED_DEMO=true) or development (DEV_TOKENS=true) one`);
    generatedInDatabase.push(setting);
    return PostgresIdentityStore.sharedSecret(postgres.pool, postgres.schema, name, randomBytes(48).toString('base64url'));
  };
  const jwtSecret = await shared('jwt-secret', settings.jwtSecret, 'JWT_SECRET');
  const transportKeySecret = await shared('transport-key-secret', settings.transportKeySecret, 'TRANSPORT_KEY_SECRET');
  const identities = await PostgresIdentityStore.open({
    pool: postgres.pool, schema: postgres.schema, transportKeySecret, accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    ...(settings.revocationPollMs !== undefined ? { revocationPollMs: settings.revocationPollMs } : {}), ...(log ? { log } : {}),
  });
  return {
    identities,
    jwtKey: { secret: Buffer.from(jwtSecret, 'utf8'), source: settings.jwtSecret !== undefined ? 'env' : 'database', created: false },
    rateCounter: await PostgresRateCounter.open(postgres.pool, postgres.schema),
    generatedInDatabase,
  };
}

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** HS256 needs a key at least as long as its output (RFC 7518 §3.2): 32 bytes. */
export const MIN_SECRET_LENGTH = 32;
export const SECRET_FILE = 'jwt-secret';

export interface ResolvedSecret {
  secret: Buffer;
  /**
   * `env`: JWT_SECRET; `file`: DATA_DIR/jwt-secret, created on first start when absent;
   * `database`: a trial server on PostgreSQL, made by its first process and kept in the database
   * for all of them (server/auth/identity-store-factory.ts).
   */
  source: 'env' | 'file' | 'database';
  file?: string;
  created: boolean;
}

export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * The token signing key. Production sets JWT_SECRET. A demo or development server
 * (`allowGenerated`: SEED_DEMO or DEV_TOKENS), when it is not set, keeps the key in
 * DATA_DIR/jwt-secret (mode 0600), made on first start: a key made fresh at every start would log
 * every device out at every restart.
 */
export function resolveJwtSecret(options: { configured: string | undefined; allowGenerated: boolean; dataDir: string }): ResolvedSecret {
  if (options.configured !== undefined) {
    if (options.configured.length < MIN_SECRET_LENGTH) throw new SecretError(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    return { secret: Buffer.from(options.configured, 'utf8'), source: 'env', created: false };
  }
  if (!options.allowGenerated) throw new SecretError('JWT_SECRET is required unless the server is a demo (SEED_DEMO=true) or development (DEV_TOKENS=true) one');
  if (options.dataDir === ':memory:') return { secret: randomBytes(48), source: 'file', created: true };
  mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, SECRET_FILE);
  let created = false;
  try {
    writeFileSync(file, randomBytes(48).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const value = readFileSync(file, 'utf8').trim();
  if (value.length < MIN_SECRET_LENGTH) throw new SecretError(`${file} holds a key shorter than ${MIN_SECRET_LENGTH} characters; delete it to make a new one`);
  return { secret: Buffer.from(value, 'utf8'), source: 'file', file, created };
}

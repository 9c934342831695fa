import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ServerConfig } from '../config.ts';
import { AuditKey } from '../store/audit-chain.ts';

/**
 * Where a development server keeps the audit key it made itself when neither AUDIT_KEY nor
 * AUDIT_KEY_FILE is set: in the user's configuration directory, outside every DATA_DIR, so a
 * copied or stolen data directory does not carry the key that would let it be rewritten. Shared
 * by every development server of this user (the demo, tests); production sets its own.
 */
export function developmentAuditKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME']?.trim() || path.join(homedir(), '.config');
  return path.join(base, 'fieldsync', 'audit-dev.key');
}

export interface LoadedAuditKey {
  key: AuditKey;
  /** Where it came from, for the start-up log and audit:verify's messages (never the key itself). */
  origin: string;
  /** Made or read from the development key file: fine for a demo, not for a deployment. */
  development: boolean;
}

function keyFromFile(file: string, what: string): AuditKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new Error(`cannot read the audit key file ${file} (${what}): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (text.length < 32) throw new Error(`the audit key file ${file} holds ${text.length} characters; it needs at least 32 (e.g. \`openssl rand -base64 48 > ${file}\`)`);
  return new AuditKey(text, file);
}

/**
 * The audit chain's key, from AUDIT_KEY, AUDIT_KEY_FILE or (development only; config.ts requires
 * one of the others unless the server is a demo or development one) the development key file, made on first use with
 * mode 0600. `create: false` (audit:verify) never makes one: a verifier without the key says so.
 */
export function loadAuditKey(
  config: Pick<ServerConfig, 'auditKey' | 'auditKeyFile'>,
  options: { create?: boolean; env?: NodeJS.ProcessEnv } = {},
): LoadedAuditKey {
  if (config.auditKey !== undefined) return { key: new AuditKey(config.auditKey, 'AUDIT_KEY'), origin: 'AUDIT_KEY', development: false };
  if (config.auditKeyFile !== undefined) return { key: keyFromFile(config.auditKeyFile, 'AUDIT_KEY_FILE'), origin: config.auditKeyFile, development: false };
  const file = developmentAuditKeyFile(options.env);
  if (options.create !== false) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (!existsSync(file)) {
      // Written whole beside it, then linked into place: two servers starting at once (tests)
      // never read a half-written key nor replace each other's.
      const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(draft, `${randomBytes(48).toString('base64')}\n`, { mode: 0o600 });
      try {
        linkSync(draft, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        rmSync(draft, { force: true });
      }
    }
  }
  return { key: keyFromFile(file, 'the development key; set AUDIT_KEY or AUDIT_KEY_FILE'), origin: file, development: true };
}

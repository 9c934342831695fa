import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { AuditKey } from '../store/audit-chain.ts';

/**
 * A signed, counted checkpoint of the audit chain, kept outside the audited database (an
 * append-only JSON-lines file, and optionally an HTTP sink): how many entries the log had, the
 * last one's id and hash. Whoever can rewrite the database cannot make the log shorter or
 * different from what a checkpoint recorded without it showing, and cannot forge a checkpoint
 * without the key. Checkpoints of one file form a chain of their own (`prev`, `n`), so a line
 * removed from the middle shows too; lines removed from the end show against the log, which
 * records each checkpoint it was given (see AuditCheckpointer).
 */
export interface Checkpoint {
  v: 1;
  /** The file's id, made when its first line was written; the log's checkpoint entries name it. */
  stream: string;
  /** 1, 2, 3… within the stream. */
  n: number;
  /** When it was written (ISO 8601), for people reading messages. */
  at: string;
  /** Entries in the log up to and including `lastId`. */
  count: number;
  /** The last entry's id (0: the log was empty) and its hash. */
  lastId: number;
  head: string;
  /** Which key signed it (a fingerprint, not the key). */
  keyId: string;
  /** The previous line's signature ('' for the first). */
  prev: string;
  /** HMAC-SHA256 over all of the above, in this order. */
  sig: string;
}

const DOMAIN = 'audit checkpoint';

function signedText(c: Omit<Checkpoint, 'sig'>): string {
  return JSON.stringify([c.v, c.stream, c.n, c.at, c.count, c.lastId, c.head, c.keyId, c.prev]);
}

export function signCheckpoint(key: AuditKey, fields: Omit<Checkpoint, 'sig' | 'v' | 'keyId'>): Checkpoint {
  const unsigned = { v: 1 as const, ...fields, keyId: key.id };
  return { ...unsigned, sig: key.sign(DOMAIN, signedText(unsigned)) };
}

/** The checkpoints of a file as read and checked, with what is wrong with it in words. */
export interface CheckpointFile {
  /** Every line that parsed, signed correctly with this key and follows the one before it. */
  checkpoints: Checkpoint[];
  /** The stream of the file (of its first good line). */
  stream: string | undefined;
  problems: string[];
  /** False when there is no file at all. */
  exists: boolean;
}

function isCheckpoint(value: unknown): value is Checkpoint {
  const c = value as Partial<Checkpoint> | null;
  return typeof c === 'object' && c !== null && c.v === 1 && typeof c.stream === 'string' && typeof c.n === 'number' && typeof c.at === 'string'
    && typeof c.count === 'number' && typeof c.lastId === 'number' && typeof c.head === 'string' && typeof c.keyId === 'string'
    && typeof c.prev === 'string' && typeof c.sig === 'string';
}

/**
 * Reads a checkpoint file and checks each line: its signature under `key`, and that it follows
 * the line before it (same stream, next number, `prev` = that line's signature).
 */
export function readCheckpointFile(file: string, key: AuditKey): CheckpointFile {
  if (!existsSync(file)) return { checkpoints: [], stream: undefined, problems: [], exists: false };
  const problems: string[] = [];
  const checkpoints: Checkpoint[] = [];
  let previous: Checkpoint | undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${path.basename(file)} line ${i + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push(`${where} is not a checkpoint (not JSON): the checkpoint file was edited`);
      continue;
    }
    if (!isCheckpoint(parsed)) {
      problems.push(`${where} is not a checkpoint (fields missing): the checkpoint file was edited`);
      continue;
    }
    const { sig, ...unsigned } = parsed;
    if (parsed.keyId !== key.id || key.sign(DOMAIN, signedText(unsigned)) !== sig) {
      problems.push(parsed.keyId !== key.id
        ? `${where} (checkpoint ${parsed.n}) was signed with key ${parsed.keyId}, not the configured key ${key.id}: set the AUDIT_KEY the server used`
        : `${where} (checkpoint ${parsed.n}) does not match its signature: it was edited or forged`);
      continue;
    }
    if (previous && (parsed.stream !== previous.stream || parsed.n !== previous.n + 1 || parsed.prev !== previous.sig)) {
      problems.push(parsed.stream !== previous.stream
        ? `${where} belongs to another checkpoint stream (${parsed.stream}, the file's is ${previous.stream}): lines of another file were put in`
        : `${where} (checkpoint ${parsed.n}) does not follow checkpoint ${previous.n}: ${parsed.n > previous.n + 1 ? 'checkpoints between them were removed' : 'lines were reordered or repeated'}`);
    } else if (!previous && (parsed.n !== 1 || parsed.prev !== '')) {
      problems.push(`${where} is checkpoint ${parsed.n}, but the file starts there: its first ${parsed.n - 1} lines were removed`);
    }
    checkpoints.push(parsed);
    previous = parsed;
  }
  return { checkpoints, stream: checkpoints[0]?.stream, problems, exists: true };
}

/**
 * The last checkpoint of a file, reading only its end (a file grows by a line a minute for
 * years; the server needs only where to continue). `problem` when that line does not verify.
 */
export function readLastCheckpoint(file: string, key: AuditKey): { checkpoint?: Checkpoint; problem?: string } {
  if (!existsSync(file)) return {};
  const fd = openSync(file, 'r');
  let tail: string;
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    tail = buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
  const line = tail.split('\n').filter((l) => l.trim() !== '').at(-1);
  if (line === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { problem: `the last line of ${path.basename(file)} is not a checkpoint: the file was edited` };
  }
  if (!isCheckpoint(parsed)) return { problem: `the last line of ${path.basename(file)} is not a checkpoint: the file was edited` };
  const { sig, ...unsigned } = parsed;
  if (parsed.keyId !== key.id || key.sign(DOMAIN, signedText(unsigned)) !== sig) {
    return { checkpoint: parsed, problem: `the last checkpoint of ${path.basename(file)} (${parsed.n}) does not verify with the configured key ${key.id}` };
  }
  return { checkpoint: parsed };
}

/** More than one checkpoint line (about 330 bytes) can ever take. */
const TAIL_BYTES = 16 * 1024;

/** Appends one line and syncs it to disk (off the event loop) before the checkpoint counts as written. */
export async function appendCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(`${JSON.stringify(checkpoint)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

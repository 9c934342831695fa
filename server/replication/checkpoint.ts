import { ErrorCode, type Checkpoint } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';

/**
 * Checkpoints are the server's commit sequence, never a device's clock. An absent checkpoint
 * means "from the beginning".
 */
export function parseCheckpoint(raw: unknown): Checkpoint {
  if (raw === undefined || raw === '' || raw === 'null') return { seq: 0 };
  if (typeof raw !== 'string') throw badCheckpoint('it must be given once, as JSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badCheckpoint('it is not valid JSON');
  }
  if (parsed === null) return { seq: 0 };
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw badCheckpoint('it must be an object like {"seq":42}');
  const seq = (parsed as { seq?: unknown }).seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw badCheckpoint('"seq" must be a whole number ≥ 0');
  return { seq };
}

export function checkpointOf(seq: number): Checkpoint {
  return { seq };
}

function badCheckpoint(why: string): HttpError {
  return new HttpError(400, ErrorCode.BAD_CHECKPOINT, `The checkpoint is not valid: ${why}. Use the checkpoint of the last pull, or none to start over.`);
}

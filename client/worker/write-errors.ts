/**
 * Why a local write was refused, in a form that survives the trip to the page: Comlink passes an
 * Error's `name` and `message` only, so the kind travels in the name (`WriteRefused:<kind>`) and
 * the message is plain words. client/ui/action.tsx turns it into what the person reads.
 */
export type WriteRefusalKind = 'duplicate' | 'invalid' | 'missing' | 'failed';

export const WRITE_REFUSED = 'WriteRefused';

export class WriteRefusedError extends Error {
  constructor(readonly kind: WriteRefusalKind, message: string) {
    super(message);
    this.name = `${WRITE_REFUSED}:${kind}`;
  }
}

/** The kind of a refused write as it reached the page (`undefined`: not a refusal the worker named). */
export function writeRefusalKind(error: unknown): WriteRefusalKind | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || !name.startsWith(`${WRITE_REFUSED}:`)) return undefined;
  return name.slice(WRITE_REFUSED.length + 1) as WriteRefusalKind;
}

interface RxLikeError {
  code?: string;
  message?: string;
  parameters?: {
    errors?: unknown[];
    writeError?: { status?: number; validationErrors?: unknown[] };
    status?: number;
  };
  status?: number;
}

interface ValidationProblem { instancePath?: string; message?: string; field?: string }

/** One schema problem in words: `allergies: must be array`. */
function problemText(problem: unknown): string {
  const p = problem as ValidationProblem;
  const where = (p.instancePath ?? p.field ?? '').replace(/^\//, '').replace(/\//g, ' › ');
  return `${where || 'the record'}: ${p.message ?? 'not allowed'}`;
}

/** The refusal behind a write that threw in RxDB (or in the writer), with the collection and id it was about. */
export function refusedWrite(error: unknown, collection: string, id: string | undefined): Error {
  if (error instanceof WriteRefusedError) return error;
  const e = (error ?? {}) as RxLikeError;
  const status = e.status ?? e.parameters?.status ?? e.parameters?.writeError?.status;
  const problems = e.parameters?.errors ?? e.parameters?.writeError?.validationErrors;
  if (e.code === 'CONFLICT' || status === 409) {
    return new WriteRefusedError('duplicate', `A ${collection} record with id ${id ?? '?'} already exists on this device.`);
  }
  if (e.code === 'VD2' || status === 422 || (Array.isArray(problems) && problems.length > 0)) {
    const list = Array.isArray(problems) ? problems.slice(0, 3).map(problemText).join('; ') : '';
    return new WriteRefusedError('invalid', list || 'a value does not fit the record');
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/is not on this device/.test(message)) return new WriteRefusedError('missing', message);
  return new WriteRefusedError('failed', message.split('\n')[0]!.slice(0, 300));
}

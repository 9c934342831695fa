/**
 * Refused writes, said where the person acted. A button or form that writes runs its work
 * through `useAction()`; when the write is refused (a record that already exists, a value the
 * schema does not take, a record no longer on the device, anything else), `<ActionError>` next to
 * that button says so in words, with what to do. The server's later refusal of a pushed change is
 * the record's badge (`refusalText`): shown on the record's card, row or form, not only in Settings.
 */
import { useRef, useState } from 'preact/hooks';
import { writeRefusalKind, type WriteRefusalKind } from '../worker/write-errors.ts';
import { ErrorCode, RefusalCode } from '../../shared/protocol/index.ts';

/** For a screen's own checks before writing (e.g. an incident number already taken). */
export { WriteRefusedError } from '../worker/write-errors.ts';

/** Words for one kind of refusal, when the screen knows better (e.g. "Incident number 42 already exists"). */
export type RefusalWords = Partial<Record<WriteRefusalKind, string>>;

/** What a person reads when a write of theirs was refused on this device. */
export function describeWriteError(error: unknown, words: RefusalWords = {}): string {
  const kind = writeRefusalKind(error) ?? 'failed';
  const detail = error instanceof Error ? error.message : String(error);
  if (words[kind]) return words[kind]!;
  switch (kind) {
    case 'duplicate': return 'This record already exists on this device, so nothing new was saved. Open the existing one instead.';
    case 'invalid': return `Not saved: ${detail}. Correct the value and try again.`;
    case 'missing': return 'This record is no longer on this device (removed, or no longer yours to see), so nothing was saved. Go back to the list.';
    default: return `Not saved on this device (${detail}). What was saved before is kept; try again, and reload the app if it keeps failing.`;
  }
}

export interface Action {
  busy: boolean;
  /** The last refusal, in words; cleared when the action runs again. */
  error: string | undefined;
  /** Where it was refused, when one action serves several places (a button per row): see `ActionError`'s `at`. */
  where: string | undefined;
  /** Runs `work` (one write or a few), catching a refusal; resolves `true` when it went through. */
  run(work: () => Promise<unknown>, words?: RefusalWords, where?: string): Promise<boolean>;
  clear(): void;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [where, setWhere] = useState<string>();
  const running = useRef(false);
  return {
    busy,
    error,
    where,
    clear: () => setError(undefined),
    async run(work, words, at) {
      if (running.current) return false;
      running.current = true;
      setBusy(true);
      setError(undefined);
      setWhere(at);
      try {
        await work();
        return true;
      } catch (e) {
        console.warn('write refused', e);
        setError(describeWriteError(e, words));
        return false;
      } finally {
        running.current = false;
        setBusy(false);
      }
    },
  };
}

/** The refusal of the action next to it (nothing when it went through); with `at`, only when refused there. */
export function ActionError({ action, at, testId = 'action-error' }: { action: Pick<Action, 'error' | 'where' | 'clear'>; at?: string; testId?: string }) {
  if (!action.error || (at !== undefined && action.where !== at)) return null;
  return (
    <div class="banner bad" role="alert" data-testid={testId} style="margin:8px 0">
      <p>{action.error}</p>
      <button type="button" onClick={action.clear}>OK</button>
    </div>
  );
}

/** What to do about a change the server refused, by its refusal code (shared/access/policy.ts, push errors). */
export function refusalAdvice(code: string | undefined): string {
  switch (code) {
    case RefusalCode.NO_WRITE_ACCESS: case RefusalCode.NO_CREATE: case RefusalCode.NO_DELETE: case ErrorCode.FORBIDDEN: case ErrorCode.ACCESS_DENIED: case RefusalCode.OUT_OF_SCOPE:
      return 'Your role may not make this change: ask dispatch or your administrator to make it. Your version stays on this device.';
    case RefusalCode.FIELD_NOT_WRITABLE: case RefusalCode.SERVER_OWNED_FIELD: case RefusalCode.IMMUTABLE_FIELD:
      return 'Change only what your role may change, or ask dispatch to change the rest. Your version stays on this device.';
    case RefusalCode.FINALIZED:
      return 'The record is locked: write an addendum for what must be added.';
    case ErrorCode.INVALID_DOCUMENT:
      return 'Correct the value and save again. Your version stays on this device.';
    default:
      return 'Your version stays on this device; correct it and save again, or ask your supervisor.';
  }
}

/** The sentence a refused record shows where it is worked on. */
export function refusalText(reason: string | undefined, code: string | undefined): string {
  const why = (reason ?? 'no reason given').replace(/[.\s]+$/, '');
  return `The server refused this change: ${why}. ${refusalAdvice(code)}`;
}

/**
 * Sealed push rows. A device's service worker sends the changes it queued as it stored them:
 * `assumedMasterState` and `newDocumentState` may be envelopes sealed with the device's
 * transport key (shared/crypto/envelope.ts, docs/protocol.md §8 "Sealed rows"). They are opened
 * here, before the push route looks at the body; from then on a sealed row is an ordinary row
 * (validation, access rules, merge, audit are unchanged).
 *
 * A row is refused, and the whole request with it (nothing is written, as for a foreign
 * `tenantId`), when an envelope names a key this server never issued, a key of another agency,
 * a revoked key, cannot be opened, or when the change was sealed by another user than the
 * caller: a queued change is accepted only from the user who made it (issue #4). The refused
 * rows are kept in quarantine, opened when the key still opens them, so an administrator sees
 * who wrote what, and the answer names each one so the device sets exactly those aside.
 */
import type { FastifyRequest } from 'fastify';
import { sealedOnDevice } from '../../shared/access/policy.ts';
import { EnvelopeError, isEnvelope, looksSealed, openEnvelope } from '../../shared/crypto/envelope.ts';
import { ErrorCode, type Identity } from '../../shared/protocol/index.ts';
import type { TransportKeyLookup } from '../auth/transport-keys.ts';
import { SERVER_DEFAULTS } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import { nestsDeeperThan } from '../http/json-depth.ts';
import type { Store } from '../store/types.ts';
import { rejectionRecord } from './rejection-record.ts';
import { actorOf } from '../auth/actor.ts';
import type { CollectionRegistry } from './collections.ts';

/** Where the keys of envelopes are found (server/auth/transport-keys.ts). */
export interface EnvelopeKeyring {
  lookup(kid: string): Promise<TransportKeyLookup>;
}

export type SealProblemCode = typeof ErrorCode.BAD_ENVELOPE | typeof ErrorCode.KEY_UNKNOWN | typeof ErrorCode.KEY_OTHER_AGENCY | typeof ErrorCode.KEY_REVOKED | typeof ErrorCode.WRITER_MISMATCH;

interface SealProblem {
  index: number;
  id: string;
  code: SealProblemCode;
  reason: string;
  /** What is kept in quarantine: the opened state when the key opens it, the envelope otherwise. */
  kept: unknown;
}

const STATE_FIELDS = ['newDocumentState', 'assumedMasterState'] as const;

const isRow = (row: unknown): row is Record<string, unknown> => typeof row === 'object' && row !== null && !Array.isArray(row);
const hasSealedMember = (row: unknown) => isRow(row) && STATE_FIELDS.some((field) => looksSealed(row[field]));

/** The push route's preHandler: replaces sealed rows of `request.body` by their opened form, or refuses the request. */
export function openSealedRows(registry: CollectionRegistry, store: Store, keys: EnvelopeKeyring) {
  return async (request: FastifyRequest): Promise<void> => {
    const body = request.body;
    const collection = (request.params as { collection?: string }).collection ?? '';
    // A device push credential (server/auth/device-credential.ts) writes a collection that must be
    // sealed on the device only with rows sealed by the user's transport key, which the device
    // holds only while unlocked: a stolen device can replay what its queue holds, nothing new.
    if (request.pushOnly && Array.isArray(body) && sealedOnDevice(collection)) {
      const clear = body.findIndex((row) => !isRow(row) || !looksSealed(row['newDocumentState']));
      if (clear >= 0) {
        throw new HttpError(403, ErrorCode.PUSH_ONLY_CREDENTIAL, `Row ${clear} of ${collection} is not sealed: with a device credential (Authorization: DPoP) only sealed rows of ${collection} are accepted. Nothing in this request was written.`);
      }
    }
    // The common case (GPS batches, direct pushes) costs one property check per row.
    if (!Array.isArray(body) || !body.some(hasSealedMember)) return;
    // Unknown collection: the route itself answers (404), nothing to open.
    if (!registry.has(collection)) return;
    request.body = await openRows(collection, body, request.identity, store, keys, request.server.config.jsonMaxDepth);
  };
}

export async function openRows(
  collection: string, body: unknown[], identity: Identity, store: Store, keys: EnvelopeKeyring, maxDepth = SERVER_DEFAULTS.jsonMaxDepth,
): Promise<unknown[]> {
  const problems: SealProblem[] = [];
  const opened: unknown[] = [];
  // A batch is normally sealed with one key: look it up (and check its revocation) once.
  const found = new Map<string, Promise<TransportKeyLookup>>();
  const lookup: EnvelopeKeyring = {
    lookup(kid) {
      let result = found.get(kid);
      if (!result) found.set(kid, (result = keys.lookup(kid)));
      return result;
    },
  };
  for (const [index, row] of body.entries()) {
    if (!hasSealedMember(row)) {
      opened.push(row);
      continue;
    }
    const next: Record<string, unknown> = { ...(row as Record<string, unknown>) };
    let problem: Omit<SealProblem, 'kept'> | undefined;
    for (const field of STATE_FIELDS) {
      const value = next[field];
      if (!looksSealed(value)) continue;
      const result = await openOne(collection, value, identity, lookup, field === 'newDocumentState', maxDepth);
      if (result.doc) next[field] = result.doc;
      if (result.problem && !problem) problem = { index, id: idOf(value), ...result.problem };
    }
    if (problem) problems.push({ ...problem, kept: next['newDocumentState'] });
    opened.push(next);
  }
  if (problems.length === 0) return opened;

  await store.quarantine(collection, identity.tenantId, actorOf(identity), problems.map((p) => ({ id: p.id, reason: rejectionRecord({ code: p.code, reason: p.reason }), doc: p.kept })));
  const first = problems[0]!;
  const status = problems.every((p) => p.code === ErrorCode.BAD_ENVELOPE) ? 400 : 403;
  const many = problems.length > 1;
  throw new HttpError(status, first.code,
    `Row ${first.index} (${collection} ${first.id}) was refused: ${first.reason}. Nothing in this request was written; the refused ${many ? 'changes were' : 'change was'} kept for your administrator.`,
    problems.slice(0, 50).map((p) => ({ index: p.index, id: p.id, message: `${p.code}: ${p.reason}` })));
}

async function openOne(
  collection: string, value: unknown, identity: Identity, keys: EnvelopeKeyring, isState: boolean, maxDepth: number,
): Promise<{ doc?: Record<string, unknown>; problem?: { code: SealProblemCode; reason: string } }> {
  if (!isEnvelope(value)) return { problem: { code: ErrorCode.BAD_ENVELOPE, reason: 'the sealed document is malformed (expected {"id", "$enc": {"v": 1, "kid", "iv", "ct"}})' } };
  const { kid } = value.$enc;
  const found = await keys.lookup(kid);
  if (found.kind === 'unknown') {
    return { problem: { code: ErrorCode.KEY_UNKNOWN, reason: `it is sealed with key ${kid}, which this server never issued, so nobody can read it` } };
  }
  const { record } = found;
  if (record.tenantId !== identity.tenantId) {
    // Never opened: another agency's key says nothing to this one.
    return { problem: { code: ErrorCode.KEY_OTHER_AGENCY, reason: `it is sealed with a key of another agency, not of yours (${identity.tenantId})` } };
  }
  let doc: Record<string, unknown>;
  try {
    doc = await openEnvelope(found.key, collection, value);
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    const reason = error.message.replace(/\.$/, '');
    return { problem: { code: ErrorCode.BAD_ENVELOPE, reason: reason.charAt(0).toLowerCase() + reason.slice(1) } };
  }
  // The body's nesting limit cannot see inside the ciphertext: the opened document gets the same
  // one, before anything walks it (it is not kept opened: its envelope goes to quarantine).
  if (nestsDeeperThan(doc, maxDepth)) {
    return { problem: { code: ErrorCode.BAD_ENVELOPE, reason: `the sealed document nests objects and arrays more than ${maxDepth} levels deep` } };
  }
  if (found.revoked) return { doc, problem: { code: ErrorCode.KEY_REVOKED, reason: `it is sealed with key ${kid}, which can no longer be used: ${found.revoked}` } };
  if (isState && record.userId !== identity.userId) {
    const writer = record.username ? `${record.username} (user ${record.userId})` : `user ${record.userId}`;
    return {
      doc,
      problem: {
        code: ErrorCode.WRITER_MISMATCH,
        reason: `it was written by ${writer} on device ${record.deviceId}, and you are signed in as user ${identity.userId}; a queued change is only accepted from the person who made it`,
      },
    };
  }
  return { doc };
}

function idOf(value: unknown): string {
  const id = isRow(value) ? value['id'] : undefined;
  return typeof id === 'string' && id !== '' ? id.slice(0, 128) : '(unknown)';
}

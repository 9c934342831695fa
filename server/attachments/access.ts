/**
 * Who may upload and read an attachment, decided by the one access declaration
 * (shared/access/rules.ts) through the server's AccessControl: an upload needs the right to write
 * the document it names, a read the right to read it in a form that holds its attachments, and
 * the document must list the attachment. Nothing here is a second set of rules.
 */
import { bindScope, inBoundScope, writeRuleOf, type Doc } from '../../shared/access/policy.ts';
import { ErrorCode, type Identity } from '../../shared/protocol/index.ts';
import { requiredObjects } from '../../shared/schemas/attachments.ts';
import { HttpError } from '../http/errors.ts';
import type { AccessControl } from '../replication/access.ts';
import type { Store } from '../store/types.ts';

export async function storedDocument(store: Store, tenantId: string, collection: string, id: string): Promise<Doc | undefined> {
  const [stored] = await store.getDocuments(collection, tenantId, [id]);
  return stored ? JSON.parse(stored.json) as Doc : undefined;
}

const denied = (why: string) => new HttpError(403, ErrorCode.ACCESS_DENIED, `${why} Nothing was stored; keep the attachment on the device and tell the user.`);

/**
 * Throws 403 ACCESS_DENIED unless `identity` may upload bytes `sha256` for the document: it may
 * write the document as stored (its write scope, e.g. crew of the report's unit), or, when the
 * document is not on the server yet, it may create such documents. A locked document takes
 * only bytes it already lists (a re-send); everything else about it is final.
 */
export async function checkMayUpload(access: AccessControl, store: Store, identity: Identity, collection: string, docId: string, sha256: string): Promise<void> {
  const rules = access.of(collection);
  const rule = writeRuleOf(rules, identity);
  if (!rule || rule.scope.kind === 'via') throw denied(`Your role (${identity.role}) may not change ${collection}, so it may not attach files to them.`);
  const doc = await storedDocument(store, identity.tenantId, collection, docId);
  if (!doc) {
    if (!rule.create) throw denied(`There is no ${collection} document ${docId} you may change.`);
    return;
  }
  if (doc['_deleted'] === true || inBoundScope(bindScope(rule.scope, identity), doc) !== true) {
    throw denied(`There is no ${collection} document ${docId} you may change.`);
  }
  const lock = rules.lock?.field;
  if (lock && doc[lock] !== undefined && doc[lock] !== null && !requiredObjects(doc).includes(sha256)) {
    throw denied(`The ${collection} document ${docId} is locked; a file it does not list cannot be attached (write an addendum).`);
  }
}

/**
 * The document if `identity` may read attachment `sha256` of it: it may read the document in a
 * form that carries its attachments (a dispatcher's projection has none), and the document lists
 * the attachment (or its thumbnail), not removed. Undefined otherwise, whatever the reason.
 */
export async function readableAttachment(access: AccessControl, store: Store, identity: Identity, collection: string, docId: string, sha256: string): Promise<Doc | undefined> {
  const doc = await storedDocument(store, identity.tenantId, collection, docId);
  if (!doc || doc['_deleted'] === true) return undefined;
  const visible = access.visibleForm(identity, collection, doc);
  if (!visible) return undefined;
  return requiredObjects(visible).includes(sha256) ? doc : undefined;
}

import type { FastifyInstance } from 'fastify';
import { ErrorCode, SCHEMA_VERSION_PARAM, SYNC } from '../../shared/protocol/index.ts';
import { HttpError } from '../http/errors.ts';
import type { Store } from '../store/types.ts';
import type { AccessControl } from './access.ts';
import { checkSchemaVersion, resolveCollection, type CollectionRegistry } from './collections.ts';
import { CHECKED_BY_HANDLER } from '../http/route-schema.ts';
import { outOfScopeSchema } from './route-schemas.ts';

export const MAX_SCOPE_CHECK_IDS = 1000;
/** Patient-data documents looked up in the audit log per out-of-scope request. */
export const MAX_HELD_LOOKUPS = 50;

/**
 * `SYNC.outOfScope` (`POST …/:collection/out-of-scope`): which of the documents a device holds it may no
 * longer read (an incident reassigned to another unit, a crew member moved to another unit, a
 * job given to another technician). Pulls only carry what a caller may read, so a document that
 * leaves a device's slice would otherwise stay on it for good; the device asks with the ids it
 * holds and removes the ones named here.
 *
 * Only documents that exist in the caller's agency are named: an id the server does not know may
 * be a document created offline and not pushed yet, which the device must keep (another agency's
 * id is not known here either). A role that may read none of the collection gets every id back,
 * whatever exists. Nothing of a document's content is sent, so the answer is not a PHI read.
 */
export function registerScopeRoute(app: FastifyInstance, registry: CollectionRegistry, store: Store, access: AccessControl): void {
  app.post<{ Params: { collection: string }; Querystring: Record<string, string | undefined>; Body: unknown }>(SYNC.outOfScope.route, { schema: outOfScopeSchema, ...CHECKED_BY_HANDLER }, async (request) => {
    const spec = resolveCollection(registry, request.params.collection);
    checkSchemaVersion(spec, request.query[SCHEMA_VERSION_PARAM]);
    const ids = idsOf(request.body);
    const identity = request.identity;
    const plan = access.readPlan(identity, spec.name);
    // A role that may read none of the collection holds none of it: every id it names is out of
    // its slice, known here or not, so the answer confirms no id (issue 17: it named the ePCR ids
    // that exist to roles that cannot read reports).
    if (plan.kind === 'none') return { outOfScope: ids };
    const stored = await store.getDocuments(spec.name, identity.tenantId, ids);
    const related = await access.relationVisible(store, identity, spec.name, stored.map((d) => d.id));
    const invisible = stored.filter((d) => !access.visibleForm(identity, spec.name, JSON.parse(d.json) as Record<string, unknown>, plan, related));
    if (!access.isPhi(spec.name)) return { outOfScope: invisible.map((d) => d.id) };
    // Patient data reaches a device only through an audited read, or was written by its user:
    // only a report this user has held is named, so asking about another unit's report ids
    // confirms none of them (issue 17). A refused write (quarantine) is no sign of having held
    // it: anyone can send one for any id.
    // Each is an audit query (which may scan the agency's unindexed entries): a bounded number per
    // request, so a request full of ids costs no more; the rest are named at the device's next check.
    const asked = invisible.slice(0, MAX_HELD_LOOKUPS);
    const held = await Promise.all(asked.map(async (d) => (await store.queryAudit({ tenantId: identity.tenantId, documentId: d.id, userId: identity.userId, limit: 20 }))
      .some((e) => e.action === 'read' || e.action === 'write')));
    return { outOfScope: asked.filter((_, i) => held[i]).map((d) => d.id) };
  });
}

function idsOf(body: unknown): string[] {
  const ids = (body as { ids?: unknown } | null)?.ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 100)) {
    throw new HttpError(400, ErrorCode.BAD_SCOPE_CHECK, 'The body must be {"ids": [...]}: the ids of documents this device holds, as strings of 1 to 100 characters.');
  }
  if (ids.length > MAX_SCOPE_CHECK_IDS) {
    throw new HttpError(400, ErrorCode.BAD_SCOPE_CHECK, `At most ${MAX_SCOPE_CHECK_IDS} ids per request, got ${ids.length}; send them in several requests.`);
  }
  return [...new Set(ids as string[])];
}

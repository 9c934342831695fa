import { getAssumedMasterState, getChangedDocumentsSince, getLastCheckpointDoc } from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { isSameRevision } from '../../shared/merge/index.ts';

/**
 * The ids of the local documents RxDB has not handed over yet: changed since the upstream
 * checkpoint and different from what the device last knew to be on the server (the same rule as
 * client/sync/pending.ts, but with ids, so they can be joined with the outbound queue's ids).
 * `undefined` while the replication has not started.
 */
export async function pendingDocumentIds(replication: RxReplicationState<any, any>): Promise<Set<string> | undefined> {
  const state = replication.internalReplicationState;
  if (!state) return undefined;
  let checkpoint = await getLastCheckpointDoc(state, 'up');
  const pending = new Set<string>();
  const primary = state.primaryPath as string;
  for (;;) {
    const page = await getChangedDocumentsSince(state.input.forkInstance, 500, checkpoint);
    if (page.documents.length === 0) return pending;
    const ids = page.documents.map((d) => (d as Record<string, unknown>)[primary] as string);
    const assumed = await getAssumedMasterState(state, ids);
    for (const doc of page.documents) {
      const id = (doc as Record<string, unknown>)[primary] as string;
      const known = assumed[id];
      if (!known || !isSameRevision(known.docData as Record<string, unknown>, doc as Record<string, unknown>)) pending.add(id);
    }
    checkpoint = page.checkpoint;
  }
}

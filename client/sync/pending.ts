import { getAssumedMasterState, getChangedDocumentsSince, getLastCheckpointDoc } from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { isSameRevision } from '../../shared/merge/index.ts';

/**
 * How many local documents the server has not yet confirmed: documents changed since the
 * upstream checkpoint whose state differs from what the device last knew to be on the server.
 * Read from RxDB's own replication meta, so it survives reloads with the data it describes.
 */
export async function countPendingDocuments(replication: RxReplicationState<any, any>): Promise<number> {
  const state = replication.internalReplicationState;
  if (!state) return Number.NaN;
  let checkpoint = await getLastCheckpointDoc(state, 'up');
  let pending = 0;
  for (;;) {
    const page = await getChangedDocumentsSince(state.input.forkInstance, 500, checkpoint);
    if (page.documents.length === 0) return pending;
    const primary = state.primaryPath as string;
    const ids = page.documents.map((d) => (d as Record<string, unknown>)[primary] as string);
    const assumed = await getAssumedMasterState(state, ids);
    for (const doc of page.documents) {
      const known = assumed[(doc as Record<string, unknown>)[primary] as string];
      if (!known || !isSameRevision(known.docData as Record<string, unknown>, doc as Record<string, unknown>)) pending++;
    }
    checkpoint = page.checkpoint;
  }
}

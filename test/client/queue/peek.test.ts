/**
 * What a page reads of the queue before erasing a user's data (client/queue/database.ts,
 * `peekOutboxCounts`): the counts, and on a device whose service worker never ran, no queue
 * database made as a side effect (an empty version 1 without stores would look to the service
 * worker's upgrade like a version-1 queue to migrate, and its open would fail). fake-indexeddb
 * stands in for the browser.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { enqueueRows, OUTBOX_DB_NAME, peekOutboxCounts, readBatch, rejectRows, withOutbox, LANES } from '../../../client/queue/index.ts';

describe('the queue, read from a page without opening it for good', () => {
  it('says nothing waits, and leaves no database behind, where the service worker never made the queue', async () => {
    expect(await peekOutboxCounts()).toEqual({ waiting: 0, rejected: 0 });
    expect((await indexedDB.databases()).map((d) => d.name)).not.toContain(OUTBOX_DB_NAME);
  });

  it('counts the changes waiting and the ones the server refused', async () => {
    await withOutbox(async (db) => {
      await enqueueRows(db, 'epcrs', 1, [{ newDocumentState: { id: 'e1', rev: '1-a' } }, { newDocumentState: { id: 'e2', rev: '1-b' } }], 1000, { userId: 'medic' });
      const batch = (await readBatch(db, LANES.urgent, 10))!;
      await rejectRows(db, batch.rows.filter((r) => r.id === 'e1'), 'INVALID_DOCUMENT', 'a required field is missing', 2000);
    });
    expect(await peekOutboxCounts()).toEqual({ waiting: 1, rejected: 1 });
  });
});

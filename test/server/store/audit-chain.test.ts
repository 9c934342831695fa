/**
 * The verifier every store feeds (server/store/audit-chain.ts), on rows made here: which index
 * rows an entry must have, index rows without their entry, checkpoint entries it collects, and
 * the positions of watched entries (what checkpoints are compared with).
 */
import { describe, expect, it } from 'vitest';
import { AuditKey, ChainVerifier, GENESIS_HASH, IndexMerge, type AuditChainRow } from '../../../server/store/audit-chain.ts';

const key = new AuditKey('audit-chain-test-key-0123456789-abcdefghijklmnop');

function chain(entries: object[]): AuditChainRow[] {
  let prev = GENESIS_HASH;
  return entries.map((e, i) => {
    const entry = JSON.stringify(e);
    const hash = key.hash(prev, 1000 + i, 'a', entry);
    const row = { id: i + 1, at: 1000 + i, tenantId: 'a', entry, prevHash: prev, hash };
    prev = hash;
    return row;
  });
}

function verify(rows: AuditChainRow[], index: { auditId: number; documentId: string }[], watch: number[] = []) {
  const queue = [...index].sort((x, y) => x.auditId - y.auditId);
  const merge = new IndexMerge(new ChainVerifier(key, { watch }), () => queue.shift());
  for (const row of rows) merge.row(row);
  return merge.finish();
}

const rows = chain([
  { action: 'write', documents: [{ id: 'r1' }, { id: 'r2' }] },
  { action: 'write', documents: [{ id: 'g1' }, { id: 'g2' }] },
  { action: 'login' },
  { action: 'audit_checkpoint', details: { stream: 's1', n: 4, count: 3, lastId: 3 } },
]);
const index = [{ auditId: 1, documentId: 'r1' }, { auditId: 1, documentId: 'r2' }, { auditId: 2, documentId: '' }];

describe('ChainVerifier', () => {
  it('accepts an entry indexed by each document it names, or by one unindexed row; collects checkpoint entries and watched positions', () => {
    const report = verify(rows, index, [3, 99]);
    expect(report).toMatchObject({ ok: true, checked: 4, problems: [], legacyEntries: 0, head: { count: 4, lastId: 4, lastHash: rows[3]!.hash } });
    expect(report.markers).toEqual([{ entryId: 4, stream: 's1', n: 4 }]);
    expect([...report.watched]).toEqual([[3, { count: 3, hash: rows[2]!.hash }]]);
  });

  it('names a missing index row, one the entry does not name, and one whose entry is gone', () => {
    const report = verify(rows, [
      { auditId: 1, documentId: 'r1' }, { auditId: 2, documentId: '' }, { auditId: 3, documentId: 'r9' }, { auditId: 7, documentId: 'x' },
    ]);
    expect(report.ok).toBe(false);
    expect(report.firstBadId).toBeUndefined();
    expect(report.problems).toEqual([
      'entry 1 names document r2 but the per-document index has no row for it: index rows were deleted, so "who touched this document" would not show this entry',
      'the per-document index links entry 3 to r9, which the entry does not name: index rows were added',
      'the per-document index has a row for entry 7 (document x), but there is no such entry: the entry was deleted',
    ]);
  });

  it('an entry removed from the middle breaks the link of the next one', () => {
    const report = verify([rows[0]!, rows[2]!, rows[3]!], index.filter((i) => i.auditId !== 2));
    expect(report).toMatchObject({ ok: false, firstBadId: 3 });
    expect(report.problems[0]).toMatch(/^entry 3 does not link to the entry before it \(1 entry before it\)/);
  });
});

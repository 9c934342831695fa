/**
 * Attachments merge as a union by SHA-256 (shared/schemas/attachments.ts): a signature or photo
 * one device added is never lost to another device's concurrent edit, whether the other side
 * added its own, changed the item, or merely did not have it. Removal is the item's `removed`
 * flag, which merges like any field.
 */
import { describe, expect, it } from 'vitest';
import { merge, type Doc } from '../../../shared/merge/index.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SHA_C = 'c'.repeat(64);

function photo(sha256: string, extra: Record<string, unknown> = {}) {
  return { sha256, kind: 'photo', purpose: 'scene', contentType: 'image/jpeg', size: 1000, capturedAt: '2026-12-06T10:00:00-05:00', ...extra };
}

function epcr(rev: string, attachments: unknown[] | undefined): Doc {
  return {
    id: '3f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f', tenantId: 'agency-a', rev, status: 'draft', unitId: 'M1',
    ...(attachments ? { attachments } : {}), _deleted: false,
  };
}

const shas = (doc: Doc) => (doc.attachments as { sha256: string }[]).map((a) => a.sha256).sort();

describe('attachments merge as a union by sha256', () => {
  it('keeps both devices\' new attachments', () => {
    const base = epcr('1-a', [photo(SHA_A)]);
    const merged = merge('epcrs', { base, master: epcr('2-m', [photo(SHA_A), photo(SHA_B)]), incoming: epcr('2-i', [photo(SHA_A), photo(SHA_C)]) });
    expect(shas(merged)).toEqual([SHA_A, SHA_B, SHA_C]);
  });

  it('keeps an attachment the other side dropped from its list (removal is a flag, never a missing item)', () => {
    const base = epcr('1-a', [photo(SHA_A), photo(SHA_B)]);
    // One side lost B (an older build, a bug): B is still evidence and stays.
    const merged = merge('epcrs', { base, master: epcr('2-m', [photo(SHA_A), photo(SHA_B, { annotation: 'left arm' })]), incoming: epcr('2-i', [photo(SHA_A)]) });
    expect(shas(merged)).toEqual([SHA_A, SHA_B]);
    expect((merged.attachments as { annotation?: string }[]).find((a) => a.annotation)).toMatchObject({ sha256: SHA_B, annotation: 'left arm' });
    const other = merge('epcrs', { base, master: epcr('2-m', [photo(SHA_A)]), incoming: epcr('2-i', [photo(SHA_A), photo(SHA_B)]) });
    expect(shas(other)).toEqual([SHA_A, SHA_B]);
  });

  it('an explicit removal merges as a field of the item', () => {
    const base = epcr('1-a', [photo(SHA_A)]);
    const merged = merge('epcrs', { base, master: epcr('2-m', [photo(SHA_A), photo(SHA_B)]), incoming: epcr('2-i', [photo(SHA_A, { removed: true })]) });
    expect(merged.attachments).toEqual([photo(SHA_A, { removed: true }), photo(SHA_B)]);
  });

  it('jobs\' attachments merge the same way', () => {
    const job = (rev: string, attachments: unknown[]) => ({ id: '3f1c2a4e-8b7d-4c3a-9e2f-1a2b3c4d5e6f', tenantId: 'agency-a', rev, status: 'on_site', attachments, _deleted: false });
    const before = { ...photo(SHA_A), purpose: 'before' };
    const signature = { ...photo(SHA_B), kind: 'signature', purpose: 'customer-signature', contentType: 'image/png' };
    const merged = merge('jobs', { base: job('1-a', [before]), master: job('2-m', [before, signature]), incoming: job('2-i', []) });
    expect(shas(merged)).toEqual([SHA_A, SHA_B]);
  });
});

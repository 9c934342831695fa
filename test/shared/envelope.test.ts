/**
 * Sealed documents (shared/crypto/envelope.ts): what a service worker's queue holds of a report
 * reads as nothing, opens only with the key it was sealed with, and only as the document and
 * collection it was sealed for.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../shared/crypto/base64url.ts';
import { EnvelopeError, importTransportKey, isEnvelope, openEnvelope, sealDocument, type SealingKey } from '../../shared/crypto/envelope.ts';
import { sealedOnDevice } from '../../shared/access/policy.ts';

const report = { id: 'epcr-1', tenantId: 'agency-a', rev: '1-a', unitId: 'M1', status: 'draft', patient: { lastName: 'Quintavalle' }, narrative: { text: 'smells of acetone' } };

async function key(kid = 'tk_test-key-1'): Promise<SealingKey> {
  return { kid, key: await importTransportKey(toBase64url(randomBytes(32))) };
}

describe('sealed documents', () => {
  it('hide the content, keep the id, and open to the same document', async () => {
    const k = await key();
    const sealed = await sealDocument(k, 'epcrs', report);
    const text = JSON.stringify(sealed);
    expect(text).not.toContain('Quintavalle');
    expect(text).not.toContain('acetone');
    expect(isEnvelope(sealed)).toBe(true);
    expect(sealed).toMatchObject({ id: 'epcr-1', $enc: { v: 1, kid: 'tk_test-key-1' } });
    expect(await openEnvelope(k.key, 'epcrs', sealed)).toEqual(report);
    // A fresh IV every time: the same document never seals to the same bytes.
    expect((await sealDocument(k, 'epcrs', report)).$enc.ct).not.toBe(sealed.$enc.ct);
  });

  it('refuse to open as another document, another collection, under another key id, with another key, or altered', async () => {
    const k = await key();
    const sealed = await sealDocument(k, 'epcrs', report);
    await expect(openEnvelope(k.key, 'epcrs', { ...sealed, id: 'epcr-2' })).rejects.toThrow(EnvelopeError);
    await expect(openEnvelope(k.key, 'incidents', sealed)).rejects.toThrow(/does not open/);
    await expect(openEnvelope(k.key, 'epcrs', { ...sealed, $enc: { ...sealed.$enc, kid: 'tk_other-key' } })).rejects.toThrow(EnvelopeError);
    await expect(openEnvelope((await key()).key, 'epcrs', sealed)).rejects.toThrow(EnvelopeError);
    const ct = fromBase64url(sealed.$enc.ct);
    ct[3] = ct[3]! ^ 1;
    await expect(openEnvelope(k.key, 'epcrs', { ...sealed, $enc: { ...sealed.$enc, ct: toBase64url(ct) } })).rejects.toThrow(EnvelopeError);
    await expect(openEnvelope(k.key, 'epcrs', { id: 'epcr-1', $enc: { v: 2 } })).rejects.toThrow(/malformed/);
  });

  it('base64url round-trips every length', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      const text = toBase64url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect([...fromBase64url(text)]).toEqual([...bytes]);
    }
    expect(() => fromBase64url('abc=')).toThrow(/base64url/);
  });

  it('are required for patient data and incidents, not for positions or units (shared/access/rules.ts)', () => {
    expect(['epcrs', 'incidents', 'billing_records', 'claims'].map((c) => sealedOnDevice(c))).toEqual([true, true, true, true]);
    expect(['gps_points', 'units', 'jobs', 'tickets', 'orders'].map((c) => sealedOnDevice(c))).toEqual([false, false, false, false, false]);
    expect(sealedOnDevice('something-new')).toBe(true);
  });
});

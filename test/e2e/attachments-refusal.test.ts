/**
 * A refusal in the crew app (issue 18), real Chromium, real service worker, real server with the
 * finalize's NEMSIS check: without the patient's signature and a witness's (or a crew
 * attestation) it cannot be finalized, and the form says why at the section; with the statement,
 * the patient's signature and a crew attestation it locks, and what the crew typed with each
 * signature (names, NEMSIS codes, the attestation) reads back from the server and from the
 * report's NEMSIS export, the signature images byte-identical.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from '../../shared/nemsis/codes.ts';
import { EPCRS, pathOf } from '../../shared/protocol/index.ts';
import type { Epcr } from '../../shared/schemas/index.ts';
import { screenshot, textOf, waitFor } from './support/browser.ts';
import { drawSignature, readStored, sha256Of } from './support/attachments.ts';
import { lockableDraft } from './support/epcr.ts';
import { startCrewDevice, type CrewDevice } from './support/outbox.ts';
import { E2eServer, e2ePort, ensureApps, TENANT } from './support/server.ts';

const SERVER_PORT = e2ePort(2210);
const CABLE_PORT = e2ePort(2211);
const UNIT = 'M23';

interface Item { sha256: string; kind: string; purpose: string; signature?: Record<string, unknown>; attestation?: { status: string; text: string } }

function values(xml: string, element: string): string[] {
  return [...xml.matchAll(new RegExp(`<${element.replace('.', '\\.')}(?:\\s[^>]*)?>([^<]*)</${element.replace('.', '\\.')}>`, 'g'))].map((m) => m[1]!);
}

describe('a refusal: signatures or an attestation before it can be finalized (browser)', () => {
  const server = new E2eServer(SERVER_PORT, { cablePorts: [CABLE_PORT], nemsisCheck: true });
  const errors: string[] = [];
  let d: CrewDevice;
  const token = `dev:${TENANT}:crew:tablet-m23:${UNIT}`;

  beforeAll(async () => {
    await ensureApps();
    await server.start();
    d = await startCrewDevice(server, { cablePort: CABLE_PORT, unit: UNIT, incidentNumber: '2026-002301', errors });
    // This journey is the server's return of a refusal without signatures; the device's own check of the
    // national rules (finalize-device-check.test.ts) could refuse before sending: this tablet never gets them.
    await d.page.context().route('**/api/epcrs/nemsis-rules.sef.json', (route) => route.abort());
  }, 240_000);

  afterAll(async () => {
    await d?.dispose().catch(() => {});
    await server.dispose();
    if (errors.length) console.log(errors.join('\n'));
  });

  it('is returned without the signatures, says why at the section, and locks with them; the export carries what was typed', async () => {
    const { page } = d;
    // A report the server locks when finalized, but the patient refused transport.
    const draft = lockableDraft(UNIT, { disposition: { unitDisposition: '4227001', transportDisposition: codeOf('eDisposition.30', 'Patient Refused Transport') } });
    await server.seed('epcrs', [draft]);
    const serverDoc = async () => (await server.docs<Epcr & { attachments?: Item[] }>('epcrs', [draft.id]))[0];
    await page.goto(`${d.cable.origin}/crew/#/epcr/${draft.id}`);
    await page.getByTestId('epcr-form').waitFor({ timeout: 20_000 });
    await page.getByTestId('section-signatures').click();

    // On the device: the section says what a refusal still needs, before anyone presses Finalize.
    const missing = page.getByTestId('signatures-missing');
    await expect.poll(() => textOf(missing), { timeout: 15_000 }).toContain('the patient\'s signature');
    expect(await textOf(missing)).toContain('a witness\'s signature');
    expect(await page.getByTestId('refusal-patient').getAttribute('data-done')).toBe('false');

    // Finalize anyway: the server's check returns it, naming the same problems at the same section.
    await page.getByTestId('finalize').click();
    await waitFor(async () => ((await serverDoc())?.finalizeErrors?.length ?? 0) > 0, 'the server returning the refusal', 60_000);
    const returned = (await serverDoc())!;
    expect(returned.lockedAt).toBeUndefined();
    expect(returned.finalizeErrors!.map((e) => e.path)).toEqual(expect.arrayContaining(['attachments', 'refusal.statement']));
    await expect.poll(() => textOf(page.getByTestId('epcr-status')), { timeout: 15_000 }).toMatch(/^Returned by the server/);
    await page.getByTestId('section-signatures').click();
    await expect.poll(() => textOf(missing)).toContain('signature');
    await screenshot(page, 'attachments-refusal-returned', { keepScroll: true });

    // The statement, the patient's signature, and the crew's attestation (no witness on scene).
    const statement = 'Risks of refusing transport explained, including death; patient alert and oriented x4.';
    await page.getByLabel('Refusal statement read to the patient').fill(statement);
    const capture = page.getByTestId('signature-capture');
    await capture.getByTestId('signature-purpose').selectOption('patient');
    await capture.getByTestId('signature-reason').selectOption(codeOf('eOther.13', 'Refusal of Transport'));
    await capture.getByTestId('signature-last-name').fill('Reyes');
    await capture.getByTestId('signature-first-name').fill('Dana');
    await drawSignature(page, capture.getByTestId('signature-pad'));
    await capture.getByTestId('signature-save').click();
    await expect.poll(() => page.getByTestId('refusal-patient').getAttribute('data-done')).toBe('true');

    await capture.getByTestId('signature-purpose').selectOption('crew-attestation');
    expect(await capture.getByTestId('signature-signer-type').inputValue()).toBe(codeOf('eOther.12', 'EMS Primary Care Provider (for this event)'));
    await capture.getByTestId('signature-reason').selectOption(codeOf('eOther.13', 'Refusal of Transport'));
    await capture.getByTestId('signature-last-name').fill('Okafor');
    await capture.getByTestId('signature-first-name').fill('Jamie');
    await capture.getByTestId('attestation-status').selectOption(codeOf('eOther.15', 'Not Signed - Crew Called out to another call'));
    await capture.getByTestId('attestation-text').fill('No bystander on scene to witness; second crew member dispatched to a priority call.');
    await drawSignature(page, capture.getByTestId('signature-pad'));
    await capture.getByTestId('signature-save').click();
    await expect.poll(() => page.getByTestId('refusal-attestation').getAttribute('data-done')).toBe('true');
    // (The server's problems stay shown until it checks the report again: finalize.)

    await page.getByTestId('finalize').click();
    const locked = (await waitFor(async () => {
      const doc = await serverDoc();
      return doc?.lockedAt ? doc : undefined;
    }, 'the report locked once its signatures are stored', 90_000, 500))!;
    expect(locked.refusal?.statement).toBe(statement);
    const patient = locked.attachments!.find((a) => a.purpose === 'patient')!;
    const attestation = locked.attachments!.find((a) => a.purpose === 'crew-attestation')!;
    expect(patient.signature).toMatchObject({ signerType: codeOf('eOther.12', 'Patient'), reasons: [codeOf('eOther.13', 'Refusal of Transport')], status: codeOf('eOther.15', 'Signed'), lastName: 'Reyes', firstName: 'Dana' });
    expect(attestation.signature).toMatchObject({ signerType: codeOf('eOther.12', 'EMS Primary Care Provider (for this event)'), lastName: 'Okafor', firstName: 'Jamie' });
    expect(attestation.attestation).toEqual({ status: codeOf('eOther.15', 'Not Signed - Crew Called out to another call'), text: 'No bystander on scene to witness; second crew member dispatched to a priority call.' });
    for (const item of [patient, attestation]) expect(sha256Of((await readStored(server.url, token, 'epcrs', draft.id, item.sha256)).bytes)).toBe(item.sha256);

    // The NEMSIS export: the names, codes and images the crew captured.
    // (Made by the export hook after the lock.)
    const xml = (await waitFor(async () => {
      const response = await fetch(`${server.url}${pathOf(EPCRS.nemsisXml, { id: draft.id })}`, { headers: { authorization: `Bearer ${token}` } });
      return response.status === 200 ? response.text() : undefined;
    }, 'the report\'s NEMSIS export', 60_000, 500))!;
    expect(values(xml, 'eOther.20')).toEqual(expect.arrayContaining(['Reyes', 'Okafor']));
    expect(values(xml, 'eOther.21')).toEqual(expect.arrayContaining(['Dana', 'Jamie']));
    expect(values(xml, 'eOther.12')).toEqual(expect.arrayContaining([codeOf('eOther.12', 'Patient'), codeOf('eOther.12', 'EMS Primary Care Provider (for this event)')]));
    expect(values(xml, 'eOther.13')).toContain(codeOf('eOther.13', 'Refusal of Transport'));
    expect(values(xml, 'eOther.15')).toContain(codeOf('eOther.15', 'Not Signed - Crew Called out to another call'));
    const images = values(xml, 'eOther.18').map((b) => createHash('sha256').update(Buffer.from(b, 'base64')).digest('hex'));
    expect(images).toEqual(expect.arrayContaining([patient.sha256, attestation.sha256]));
  });
});

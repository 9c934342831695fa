/**
 * Capturing signatures and photos, offline, for any document that has `attachments` (the crew's
 * ePCR, the technician's job): a signature pad (signature_pad) with who signs and why, a photo
 * from the camera or a file with what it shows and a note, and the list of what the document
 * holds, each shown from its thumbnail first.
 *
 * A capture is kept in one step when the person saves it (client/worker/attachments.ts): the
 * bytes sealed in the device's queue, the item in the document. The service worker uploads them
 * after the report (sw/queue/). The signature fields of an ePCR are the NEMSIS eOther signature
 * group (eOther.12 type of person signing, .13 reason, .14 representative type, .15 status, .20/.21
 * names); their options are the codes generated from the XSD (shared/nemsis/codes.ts).
 *
 * The inputs here are not bound to a field of the document as the form's are (what they hold is
 * written with the capture, when it is saved): they say so to the round-trip walker, and their
 * round trip (typed here, read back from the server) is test/e2e/attachments-capture.test.ts.
 */
import SignaturePad from 'signature_pad';
import { useEffect, useRef, useState } from 'preact/hooks';
import { codeList, codeOf } from '../../../shared/nemsis/codes.ts';
import type { CollectionName } from '../../../shared/schemas/index.ts';
import { useAction, ActionError } from '../action.tsx';
import { readAttachment, write } from '../db.ts';
import { notARecordField } from '../record-field.ts';
import { clockOf, offsetDateTime } from '../time.ts';
import { canvasPng, preparePhoto } from './image.ts';
import { photoLimits } from './limits.ts';

/** An item of a document's `attachments` (shared/schemas/attachments.ts). */
export interface AttachmentItem {
  sha256: string;
  kind: 'signature' | 'photo';
  purpose: string;
  contentType: string;
  size: number;
  capturedAt: string;
  annotation?: string;
  thumbnail?: { sha256: string; contentType: string; size: number };
  signature?: { signerType?: string; reasons?: string[]; representativeType?: string; status?: string; lastName?: string; firstName?: string };
  attestation?: { status: string; text: string };
  export?: boolean;
  removed?: boolean;
}

const NOT_A_FIELD = 'written with the signature or photo when it is saved; round trip: test/e2e/attachments-capture.test.ts';

/** Who signs on an ePCR, in the crew's words, and the NEMSIS type of person signing it starts with. */
export const EPCR_SIGNERS: readonly (readonly [purpose: string, label: string, signerType: string])[] = [
  ['patient', 'Patient', codeOf('eOther.12', 'Patient')],
  ['representative', 'Patient representative', codeOf('eOther.12', 'Patient Representative')],
  ['witness', 'Witness', codeOf('eOther.12', 'Witness')],
  ['crew', 'Crew member', codeOf('eOther.12', 'EMS Primary Care Provider (for this event)')],
  ['receiving-facility', 'Receiving facility', codeOf('eOther.12', 'Healthcare Provider')],
  ['crew-attestation', 'Crew attestation (the patient could not sign)', codeOf('eOther.12', 'EMS Primary Care Provider (for this event)')],
];
const SIGNED = codeOf('eOther.15', 'Signed');
/** eOther.15 codes that say why a patient did not sign: the attestation's reason. */
const NOT_SIGNED = codeList('eOther.15').filter(([, label]) => /^Not Signed/i.test(label));

export const EPCR_PHOTOS: readonly (readonly [string, string])[] = [
  ['face-sheet', 'Face sheet'], ['insurance-front', 'Insurance card, front'], ['insurance-back', 'Insurance card, back'],
  ['ecg', 'ECG strip'], ['scene', 'Scene'], ['wound', 'Wound'], ['other', 'Other'],
];
export const JOB_PHOTOS: readonly (readonly [string, string])[] = [['before', 'Before the work'], ['after', 'After the work'], ['other', 'Other']];

const PURPOSE_LABELS: Record<string, string> = {
  ...Object.fromEntries(EPCR_SIGNERS.map(([purpose, label]) => [purpose, label])),
  ...Object.fromEntries(EPCR_PHOTOS), ...Object.fromEntries(JOB_PHOTOS), 'customer-signature': 'Customer',
};

/**
 * A signature pad with who signs. `nemsis`: an ePCR's signature (signer, type, reason, status as
 * NEMSIS codes); otherwise a job's customer signature (a name only).
 */
export function SignatureCapture(props: {
  collection: CollectionName; docId: string; nemsis: boolean; disabled?: boolean;
  /** The signer the form starts with (e.g. `patient` on a refusal). */
  initialPurpose?: string;
  /** The eOther.13 reason the form starts with (e.g. Refusal of Care). */
  initialReason?: string;
  testId?: string;
  title?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const pad = useRef<SignaturePad | undefined>(undefined);
  const action = useAction();
  const firstPurpose = props.nemsis ? (props.initialPurpose ?? 'patient') : 'customer-signature';
  const [purpose, setPurpose] = useState(firstPurpose);
  const [signerType, setSignerType] = useState(EPCR_SIGNERS.find(([p]) => p === firstPurpose)?.[2] ?? '');
  const [reason, setReason] = useState(props.initialReason ?? '');
  const [representativeType, setRepresentativeType] = useState('');
  const [lastName, setLastName] = useState('');
  const [firstName, setFirstName] = useState('');
  const [attestationStatus, setAttestationStatus] = useState('');
  const [attestationText, setAttestationText] = useState('');
  const [drawn, setDrawn] = useState(false);
  const [saved, setSaved] = useState<string>();

  useEffect(() => {
    if (!canvas.current) return;
    const signaturePad = new SignaturePad(canvas.current, { backgroundColor: 'rgb(255,255,255)' });
    signaturePad.addEventListener('endStroke', () => setDrawn(!signaturePad.isEmpty()));
    pad.current = signaturePad;
    return () => signaturePad.off();
  }, []);

  const attestation = purpose === 'crew-attestation';
  const missing = !drawn ? 'Sign on the pad first.'
    : !lastName.trim() ? 'Enter the surname of the person signing.'
      : attestation && (!attestationStatus || !attestationText.trim()) ? 'Say why the patient could not sign (the reason and in your words).'
        : undefined;
  const choosePurpose = (next: string) => {
    setPurpose(next);
    const preset = EPCR_SIGNERS.find(([p]) => p === next)?.[2];
    if (preset) setSignerType(preset);
  };
  const save = () => action.run(async () => {
    if (!canvas.current || !pad.current || missing) throw new Error(missing ?? 'The pad is not ready');
    const bytes = await canvasPng(canvas.current);
    const names = { lastName: lastName.trim(), ...(firstName.trim() ? { firstName: firstName.trim() } : {}) };
    const signature = props.nemsis
      ? {
        signerType, status: SIGNED, ...(reason ? { reasons: [reason] } : {}),
        ...(purpose === 'representative' && representativeType ? { representativeType } : {}), ...names,
      }
      : names;
    await write.attach(props.collection, props.docId, {
      bytes, contentType: 'image/png',
      item: {
        kind: 'signature', purpose, capturedAt: offsetDateTime(), signature,
        ...(attestation ? { attestation: { status: attestationStatus, text: attestationText.trim() } } : {}),
      },
    });
    pad.current.clear();
    setDrawn(false);
    setLastName('');
    setFirstName('');
    setAttestationText('');
    setSaved(`Signature of ${names.lastName} saved on this device.`);
  }, { invalid: 'The signature was not saved: a value is not one the report takes. Check the fields and save again.' });

  return (
    <fieldset class="card" data-testid={props.testId ?? 'signature-capture'} disabled={props.disabled}>
      <legend>{props.title ?? (props.nemsis ? 'Signature' : 'Customer signature')}</legend>
      {props.nemsis && (
        <div class="row">
          <label>Who signs
            <select value={purpose} data-testid="signature-purpose" {...notARecordField(NOT_A_FIELD)} onChange={(e) => choosePurpose(e.currentTarget.value)}>
              {EPCR_SIGNERS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          </label>
          <label>Type of person signing
            <select value={signerType} data-testid="signature-signer-type" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setSignerType(e.currentTarget.value)}>
              {codeList('eOther.12').map(([code, label]) => <option key={code} value={code}>{label}</option>)}
            </select>
          </label>
          <label>Signed for
            <select value={reason} data-testid="signature-reason" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setReason(e.currentTarget.value)}>
              <option value="">—</option>
              {codeList('eOther.13').map(([code, label]) => <option key={code} value={code}>{label}</option>)}
            </select>
          </label>
          {purpose === 'representative' && (
            <label>Representative is the patient's
              <select value={representativeType} data-testid="signature-representative-type" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setRepresentativeType(e.currentTarget.value)}>
                <option value="">—</option>
                {codeList('eOther.14').map(([code, label]) => <option key={code} value={code}>{label}</option>)}
              </select>
            </label>
          )}
        </div>
      )}
      <div class="row">
        <label>Signer's surname
          <input value={lastName} maxLength={200} data-testid="signature-last-name" {...notARecordField(NOT_A_FIELD)} onInput={(e) => setLastName(e.currentTarget.value)} />
        </label>
        <label>Signer's given name
          <input value={firstName} maxLength={200} data-testid="signature-first-name" {...notARecordField(NOT_A_FIELD)} onInput={(e) => setFirstName(e.currentTarget.value)} />
        </label>
      </div>
      {attestation && (
        <div class="row">
          <label>Why the patient did not sign
            <select value={attestationStatus} data-testid="attestation-status" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setAttestationStatus(e.currentTarget.value)}>
              <option value="">—</option>
              {NOT_SIGNED.map(([code, label]) => <option key={code} value={code}>{label}</option>)}
            </select>
          </label>
          <label style="flex:1">In your words
            <textarea value={attestationText} maxLength={2000} rows={2} data-testid="attestation-text" {...notARecordField(NOT_A_FIELD)} onInput={(e) => setAttestationText(e.currentTarget.value)} />
          </label>
        </div>
      )}
      <canvas ref={canvas} width={600} height={180} class="signature-pad" data-testid="signature-pad" aria-label="Sign here"
        style="border:1px solid var(--border, #999);border-radius:6px;width:100%;max-width:600px;height:180px;touch-action:none;background:#fff" />
      <div class="row">
        <button type="button" onClick={() => { pad.current?.clear(); setDrawn(false); }}>Clear</button>
        <button type="button" class="primary" data-testid="signature-save" disabled={action.busy || !!missing} onClick={() => void save()}>Save signature</button>
        {missing && drawn && <span class="hint" data-testid="signature-missing">{missing}</span>}
        {saved && !action.error && <span class="hint" data-testid="signature-saved">{saved}</span>}
      </div>
      <ActionError action={action} testId="signature-error" />
    </fieldset>
  );
}

/** A photo from the camera or a file, what it shows and a note; resized and compressed here (image.ts). */
export function PhotoCapture(props: { collection: CollectionName; docId: string; purposes: readonly (readonly [string, string])[]; nemsis: boolean; disabled?: boolean }) {
  const action = useAction();
  const [purpose, setPurpose] = useState(props.purposes[0]?.[0] ?? 'other');
  const [file, setFile] = useState<File>();
  const [annotation, setAnnotation] = useState('');
  const [original, setOriginal] = useState(false);
  const [toExport, setToExport] = useState(false);
  const [saved, setSaved] = useState<string>();
  const input = useRef<HTMLInputElement>(null);

  const add = () => action.run(async () => {
    if (!file) throw new Error('Take or pick a photo first.');
    const prepared = await preparePhoto(file, photoLimits(), original);
    await write.attach(props.collection, props.docId, {
      bytes: prepared.bytes, contentType: prepared.contentType, thumbnail: prepared.thumbnail,
      item: {
        kind: 'photo', purpose, capturedAt: offsetDateTime(),
        ...(annotation.trim() ? { annotation: annotation.trim() } : {}), ...(props.nemsis && toExport ? { export: true } : {}),
      },
    });
    setFile(undefined);
    setAnnotation('');
    if (input.current) input.current.value = '';
    setSaved(`Photo saved on this device (${Math.round(prepared.bytes.byteLength / 1000)} KB).`);
  }, { invalid: 'The photo was not saved: a value is not one the record takes.' });

  return (
    <fieldset class="card" data-testid="photo-capture" disabled={props.disabled}>
      <legend>Photo</legend>
      <div class="row">
        <label>What it shows
          <select value={purpose} data-testid="photo-purpose" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setPurpose(e.currentTarget.value)}>
            {props.purposes.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </label>
        <label>Photo (camera or file)
          <input ref={input} type="file" accept="image/*" capture="environment" data-testid="photo-file" {...notARecordField(NOT_A_FIELD)}
            onChange={(e) => { setFile(e.currentTarget.files?.[0]); setSaved(undefined); }} />
        </label>
      </div>
      <label>Note on the photo
        <input value={annotation} maxLength={1000} data-testid="photo-annotation" {...notARecordField(NOT_A_FIELD)} onInput={(e) => setAnnotation(e.currentTarget.value)} />
      </label>
      <div class="row">
        <label><input type="checkbox" checked={original} data-testid="photo-original" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setOriginal(e.currentTarget.checked)} /> Keep full quality (not resized)</label>
        {props.nemsis && <label><input type="checkbox" checked={toExport} data-testid="photo-export" {...notARecordField(NOT_A_FIELD)} onChange={(e) => setToExport(e.currentTarget.checked)} /> Include in the NEMSIS export</label>}
      </div>
      <div class="row">
        <button type="button" class="primary" data-testid="photo-add" disabled={action.busy || !file} onClick={() => void add()}>{action.busy ? 'Saving…' : 'Add photo'}</button>
        {saved && !action.error && <span class="hint" data-testid="photo-saved">{saved}</span>}
      </div>
      <ActionError action={action} testId="photo-error" />
    </fieldset>
  );
}

/** The document's signatures and photos, newest first, each shown from its thumbnail; the full image on demand. */
export function AttachmentList(props: { collection: CollectionName; docId: string; items: readonly AttachmentItem[] | undefined; locked?: boolean }) {
  const items = [...(props.items ?? [])].filter((item) => !item.removed).reverse();
  const action = useAction();
  if (items.length === 0) return <p class="empty" data-testid="attachments-empty">No signatures or photos yet.</p>;
  const remove = (sha256: string) => action.run(() => write.mutate(props.collection, props.docId, [{
    op: 'set', path: ['attachments'], value: (props.items ?? []).map((item) => (item.sha256 === sha256 ? { ...item, removed: true } : item)),
  }]));
  return (
    <>
      <ul class="list" data-testid="attachments">
        {items.map((item) => (
          <li key={item.sha256} class="card" data-testid="attachment" data-sha256={item.sha256} data-purpose={item.purpose} data-kind={item.kind}>
            <div class="row" style="align-items:flex-start">
              <AttachmentImage collection={props.collection} docId={props.docId} item={item} />
              <div style="flex:1">
                <strong>{item.kind === 'signature' ? 'Signature' : 'Photo'}: {PURPOSE_LABELS[item.purpose] ?? item.purpose}</strong>
                {item.signature?.lastName && <div data-testid="attachment-signer">{[item.signature.firstName, item.signature.lastName].filter(Boolean).join(' ')}</div>}
                {item.attestation && <div data-testid="attachment-attestation">{item.attestation.text}</div>}
                {item.annotation && <div data-testid="attachment-annotation">{item.annotation}</div>}
                <div class="meta">{clockOf(item.capturedAt)} · {Math.max(1, Math.round(item.size / 1000))} KB{item.export ? ' · in the NEMSIS export' : ''}</div>
                {!props.locked && <button type="button" data-testid="attachment-remove" onClick={() => void remove(item.sha256)}>Remove</button>}
              </div>
            </div>
          </li>
        ))}
      </ul>
      <ActionError action={action} />
    </>
  );
}

/**
 * An attachment's picture: its thumbnail (or a signature itself, which is small) first; the full
 * photo when asked for. Bytes come from this device while they wait, else from the server.
 */
function AttachmentImage(props: { collection: CollectionName; docId: string; item: AttachmentItem }) {
  const { item } = props;
  const [url, setUrl] = useState<string>();
  const [full, setFull] = useState(false);
  const [problem, setProblem] = useState<string>();
  const sha256 = full || !item.thumbnail ? item.sha256 : item.thumbnail.sha256;
  useEffect(() => {
    let cancelled = false;
    setProblem(undefined);
    // A data: URL (the apps' content security policy allows images from 'self' and data: only);
    // it lives in this page's memory and goes with it, like the decrypted report.
    readAttachment(props.collection, props.docId, sha256).then((found) => dataUrlOf(new Blob([found.bytes], { type: found.contentType }))).then((made) => {
      if (!cancelled) setUrl(made);
    }, (error: unknown) => {
      if (!cancelled) setProblem(error instanceof Error ? error.message : String(error));
    });
    return () => {
      cancelled = true;
    };
  }, [sha256]);
  return (
    <div style="min-width:120px" data-testid="attachment-picture" data-source={url ? 'shown' : problem ? 'unavailable' : 'loading'}>
      {url
        ? <img src={url} alt={`${item.kind} ${PURPOSE_LABELS[item.purpose] ?? item.purpose}`} data-testid="attachment-image" data-shown={sha256} data-full={full || !item.thumbnail ? 'true' : 'false'}
          style={full ? 'max-width:100%' : 'max-width:160px;max-height:120px'} />
        : <span class="meta" data-testid="attachment-loading">{problem ? `Not available here now (${problem}).` : 'Loading…'}</span>}
      {item.thumbnail && !full && <div><button type="button" data-testid="attachment-full" onClick={() => setFull(true)}>Full image</button></div>}
    </div>
  );
}

function dataUrlOf(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('the image could not be read'));
    reader.readAsDataURL(blob);
  });
}

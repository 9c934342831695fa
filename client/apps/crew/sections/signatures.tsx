/**
 * Signatures and photos (eOther signature and file groups), and the refusal: the refusal
 * statement the crew read to the patient, the patient's and the witness's signatures (or the
 * crew's attestation of why the patient could not sign), the other signatures of the call
 * (representative, crew, receiving facility) and the photos (face sheet, insurance card, ECG,
 * scene, wound). The capture component is shared with the technician's app
 * (client/ui/attachments/capture.tsx). What finalizing a refusal still needs comes from the one
 * finalize rule (shared/domain/epcr-validation.ts) and is said here, at the section.
 */
import type { JSX } from 'preact';
import { AttachmentList, EPCR_PHOTOS, PhotoCapture, SignatureCapture, type AttachmentItem } from '../../../ui/attachments/capture.tsx';
import { TextField } from '../../../ui/components.tsx';
import { codeOf } from '../../../../shared/nemsis/codes.ts';
import type { FormKit } from './kit.ts';
import { fieldMessage } from './model.ts';

/** Problems of this section's paths: the server's, and every one of the finalize rule's (several may share a path). */
function problemsHere(kit: FormKit): string[] {
  const mine = (path: string) => path.startsWith('attachments') || path.startsWith('refusal');
  const out = new Set<string>();
  for (const [path, text] of kit.serverErrors) if (mine(path)) out.add(text);
  if (!kit.disabled) {
    // The form's one finalize check of the report (checking it again here read every part of the
    // report, and drew this section again whenever anything in it changed).
    for (const problem of kit.missing) if (mine(problem.path) && !kit.serverErrors.has(problem.path)) out.add(fieldMessage(problem.message));
  }
  return [...out];
}

export function signaturesSection(kit: FormKit): JSX.Element {
  const { epcr, id, field, disabled } = kit;
  const items = (epcr as { attachments?: AttachmentItem[] }).attachments;
  const live = (items ?? []).filter((item) => !item.removed);
  const has = (purpose: string) => live.some((item) => item.kind === 'signature' && item.purpose === purpose);
  const problems = problemsHere(kit);
  return (
    <>
      {problems.length > 0 && (
        <div class="hint bad" data-testid="signatures-missing" role="status">
          <strong>Before finalizing:</strong>
          <ul style="margin:4px 0">{problems.map((text) => <li key={text}>{text}</li>)}</ul>
        </div>
      )}
      <fieldset data-testid="refusal">
        <legend>Refusal of care or transport</legend>
        <p class="meta">Only when the patient refuses: the statement read to the patient, then the patient's and a witness's signatures, or a crew attestation of why the patient could not sign.</p>
        <TextField {...field(['refusal', 'statement'], 'Refusal statement read to the patient')} value={epcr.refusal?.statement} multiline maxLength={20000} />
        <ul class="meta" data-testid="refusal-signatures">
          <li data-testid="refusal-patient" data-done={has('patient') ? 'true' : 'false'}>Patient signature: {has('patient') ? 'signed' : 'not yet'}</li>
          <li data-testid="refusal-witness" data-done={has('witness') ? 'true' : 'false'}>Witness signature: {has('witness') ? 'signed' : 'not yet'}</li>
          <li data-testid="refusal-attestation" data-done={has('crew-attestation') ? 'true' : 'false'}>Crew attestation: {has('crew-attestation') ? 'given' : 'none'}</li>
        </ul>
      </fieldset>
      <SignatureCapture collection="epcrs" docId={id} nemsis disabled={disabled} initialReason={codeOf('eOther.13', 'Release for Billing')} />
      <PhotoCapture collection="epcrs" docId={id} purposes={EPCR_PHOTOS} nemsis disabled={disabled} />
      <h3>On this report</h3>
      <AttachmentList collection="epcrs" docId={id} items={items} locked={disabled} />
    </>
  );
}

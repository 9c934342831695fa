/**
 * The refusal rule (issue 18), one function for the crew form and the server's finalize: a
 * refusal of care or transport needs its statement and the patient's and a witness's signatures,
 * or a crew member's signed attestation of why not; a signature's NEMSIS codes must be codes of
 * eOther.12–.15. And what billing reads of the signatures: who authorised it.
 */
import { describe, expect, it } from 'vitest';
import { validateEpcrForFinalize } from '../../../shared/domain/epcr-validation.ts';
import { patientSignatureStatus } from '../../../shared/domain/signatures.ts';
import { codeOf } from '../../../shared/nemsis/codes.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { overdoseEpcr } from '../../server/nemsis/fixtures.ts';

let n = 0;
function signature(purpose: string, signerType: string, extra: Record<string, unknown> = {}) {
  n++;
  return {
    sha256: n.toString(16).padStart(64, '0'), kind: 'signature', purpose, contentType: 'image/png', size: 500, capturedAt: '2024-10-07T20:50:00-04:00',
    signature: { signerType: codeOf('eOther.12', signerType), status: codeOf('eOther.15', 'Signed'), reasons: [codeOf('eOther.13', 'Refusal of Care')] }, ...extra,
  };
}

function refusal(): Epcr {
  const epcr = overdoseEpcr();
  epcr.disposition = { unitDisposition: codeOf('eDisposition.27', 'Patient Contact Made'), patientEvaluationCare: codeOf('eDisposition.28', 'Patient Evaluated and Refused Care'), transportDisposition: codeOf('eDisposition.30', 'No Transport') };
  delete epcr.times!.atDestination;
  delete epcr.times!.transferOfCare;
  delete epcr.payment;
  epcr.refusal = { statement: 'Told of the risks of refusing care, including death; patient understands.' };
  return epcr;
}

const problemsAt = (epcr: Epcr) => validateEpcrForFinalize(epcr).map((p) => `${p.path}: ${p.message}`);

describe('a refusal cannot be finalized without its signatures', () => {
  it('no signature at all: the patient\'s and the witness\'s are asked for', () => {
    const problems = problemsAt(refusal());
    expect(problems).toEqual([expect.stringMatching(/^attachments: .*patient's signature/), expect.stringMatching(/^attachments: .*witness's signature/)]);
  });

  it('patient and witness signed: finalizes', () => {
    const epcr = refusal();
    epcr.attachments = [signature('patient', 'Patient'), signature('witness', 'Witness')] as Epcr['attachments'];
    expect(problemsAt(epcr)).toEqual([]);
  });

  it('a removed signature does not count', () => {
    const epcr = refusal();
    epcr.attachments = [signature('patient', 'Patient', { removed: true }), signature('witness', 'Witness')] as Epcr['attachments'];
    expect(problemsAt(epcr)).toEqual([expect.stringMatching(/patient's signature/)]);
  });

  it('a crew attestation of why the patient could not sign stands in for both', () => {
    const epcr = refusal();
    epcr.attachments = [signature('crew-attestation', 'EMS Primary Care Provider (for this event)', {
      attestation: { status: codeOf('eOther.15', 'Not Signed - Mental Status/Impaired'), text: 'Intoxicated, would not hold the pen; refusal witnessed by police.' },
    })] as Epcr['attachments'];
    expect(problemsAt(epcr)).toEqual([]);
  });

  it('a refused transport counts as a refusal; the statement is required', () => {
    const epcr = refusal();
    epcr.disposition = { ...epcr.disposition, patientEvaluationCare: codeOf('eDisposition.28', 'Patient Evaluated and Care Provided'), transportDisposition: codeOf('eDisposition.30', 'Patient Refused Transport') };
    delete epcr.refusal;
    expect(problemsAt(epcr).map((p) => p.split(':')[0])).toEqual(['refusal.statement', 'attachments', 'attachments']);
  });

  it('a signature whose NEMSIS codes are not codes of eOther.12–.15 is named at its field', () => {
    const epcr = overdoseEpcr();
    const bad = signature('patient', 'Patient');
    bad.signature = { signerType: 'PATIENT', status: codeOf('eOther.15', 'Signed'), reasons: ['refusal'] };
    epcr.attachments = [bad] as Epcr['attachments'];
    expect(validateEpcrForFinalize(epcr).map((p) => p.path)).toEqual([`attachments[${bad.sha256}].signature.signerType`, `attachments[${bad.sha256}].signature.reasons`]);
  });
});

describe('what the claim reads of the signatures', () => {
  it('patient, representative, crew attestation (provider), or none', () => {
    const epcr = overdoseEpcr();
    expect(patientSignatureStatus(epcr)).toBe('none');
    epcr.attachments = [signature('crew-attestation', 'EMS Crew Member (Other)', { attestation: { status: codeOf('eOther.15', 'Not Signed - Unconscious'), text: 'Unconscious throughout.' } })] as Epcr['attachments'];
    expect(patientSignatureStatus(epcr)).toBe('provider');
    epcr.attachments = [...epcr.attachments!, signature('representative', 'Patient Representative')] as Epcr['attachments'];
    expect(patientSignatureStatus(epcr)).toBe('representative');
    epcr.attachments = [...epcr.attachments!, signature('patient', 'Patient')] as Epcr['attachments'];
    expect(patientSignatureStatus(epcr)).toBe('signed');
  });
});

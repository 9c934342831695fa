import { describe, expect, it } from 'vitest';
import { validateEpcrForFinalize } from '../../../shared/domain/epcr-validation.ts';
import type { Epcr } from '../../../shared/schemas/index.ts';
import { pertinentNegativesOf } from '../../../shared/nemsis/codes.ts';
import { cancelledPriorToArrivalEpcr, cardiacArrestEpcr, collisionWithInjuriesEpcr, manyVitalsEpcr, motorVehicleCollisionEpcr, overdoseEpcr } from '../../server/nemsis/fixtures.ts';

const paths = (epcr: Epcr, original?: Epcr) => validateEpcrForFinalize(epcr, { original }).map((p) => p.path);

describe('finalize validation of an ePCR', () => {
  it('accepts complete reports: transport, multi-patient trauma, a long transfer, a cancelled call', () => {
    const withMiles = (epcr: Epcr) => ({ ...epcr, disposition: { ...epcr.disposition, loadedMiles: 12.4 } });
    const transfer = withMiles(manyVitalsEpcr(20));
    transfer.patient = { ...transfer.patient, lastName: 'Nez', firstName: 'Ada' };
    transfer.situation = { ...transfer.situation, chiefComplaint: 'Respiratory failure' };
    for (const epcr of [overdoseEpcr(), withMiles(motorVehicleCollisionEpcr()), transfer, cancelledPriorToArrivalEpcr()]) {
      expect(validateEpcrForFinalize(epcr)).toEqual([]);
    }
  });

  it('a pertinent negative that is not one of its element\'s PN codes is refused at its field; the new reports pass', () => {
    const pn = (element: string, label: string) => pertinentNegativesOf(element).find(([, l]) => l === label)![0];
    const epcr = overdoseEpcr(); // lists an allergy
    epcr.history = { ...epcr.history, allergiesPertinentNegative: pn('eHistory.06', 'No Known Drug Allergy') };
    epcr.medications = [{ ...epcr.medications![0]!, pertinentNegative: '8801999' }];
    // The "none" reason beside a listed allergy is not refused: the list is what the export sends (the form says so at the reason).
    expect(paths(epcr)).toEqual(['medications[m1].pertinentNegative']);
    for (const report of [cardiacArrestEpcr(), collisionWithInjuriesEpcr()]) expect(validateEpcrForFinalize(report)).toEqual([]);
  });

  it('names each missing field with a message the crew can act on', () => {
    const epcr = overdoseEpcr();
    delete epcr.patient!.lastName;
    delete epcr.situation!.chiefComplaint;
    delete epcr.times!.unitNotified;
    const problems = validateEpcrForFinalize(epcr);
    expect(problems).toContainEqual({ path: 'patient.lastName', message: 'Patient last name is required to finalize' });
    expect(problems.map((p) => p.path)).toEqual(['times.unitNotified', 'patient.lastName', 'situation.chiefComplaint']);
  });

  it('a stub straight from the CAD lists everything NEMSIS and billing still need', () => {
    const stub: Epcr = {
      id: 'a1500a8d-f414-4ca3-84bc-4e0a7d0ccb15', tenantId: 't', rev: '1-a', status: 'finalized', unitId: 'u',
      response: { incidentNumber: 'X-1' }, times: { unitNotified: '2026-01-01T10:00:00-05:00' },
    };
    expect(paths(stub)).toEqual([
      'response.serviceType', 'response.unitCapability', 'response.vehicleNumber', 'response.callSign', 'response.responseMode',
      'dispatch.reason', 'times.backInService', 'disposition.unitDisposition',
      'patient.lastName', 'patient.firstName', 'patient.dateOfBirth', 'situation.chiefComplaint', 'vitals', 'disposition.transportDisposition',
    ]);
  });

  it('no patient contact: no patient, complaint or vitals are asked for', () => {
    const epcr = cancelledPriorToArrivalEpcr();
    delete epcr.times!.backInService;
    expect(paths(epcr)).toEqual(['times.backInService']);
  });

  it('age instead of date of birth needs its units; an empty vital set does not count', () => {
    const epcr = overdoseEpcr();
    delete epcr.patient!.dateOfBirth;
    delete epcr.patient!.ageUnits;
    epcr.vitals = [{ id: 'v1', takenAt: '2024-10-07T20:27:00-04:00' }];
    expect(paths(epcr)).toEqual(['patient.ageUnits', 'vitals']);
  });

  it('a transport by this unit needs a destination, its arrival time and what billing needs', () => {
    const epcr = overdoseEpcr();
    epcr.disposition = { unitDisposition: '4227001', transportDisposition: '4230001' };
    delete epcr.times!.atDestination;
    delete epcr.payment;
    epcr.scene = {};
    expect(paths(epcr)).toEqual([
      'disposition.destinationName', 'disposition.destinationType', 'times.atDestination', 'payment.serviceLevel',
      'disposition.loadedMiles', 'scene.address.zip',
    ]);
  });

  it('a transported report without loaded miles is refused, unless it is a paramedic intercept', () => {
    const epcr = overdoseEpcr();
    delete epcr.disposition!.loadedMiles;
    expect(paths(epcr)).toEqual(['disposition.loadedMiles']);
    epcr.payment!.serviceLevel = '2650013';
    expect(paths(epcr)).toEqual([]);
  });

  it('a patient who refused transport needs no destination or billing data (but the refusal\'s statement and signatures)', () => {
    const epcr = overdoseEpcr();
    epcr.disposition = { unitDisposition: '4227001', transportDisposition: '4230009' };
    delete epcr.times!.atDestination;
    delete epcr.times!.transferOfCare;
    delete epcr.payment;
    expect(paths(epcr)).toEqual(['refusal.statement', 'attachments', 'attachments']);
    epcr.refusal = { statement: 'Risks of refusing transport explained, including death.' };
    epcr.attachments = [{
      sha256: 'a'.repeat(64), kind: 'signature', purpose: 'crew-attestation', contentType: 'image/png', size: 100, capturedAt: '2024-10-07T20:50:00-04:00',
      signature: { signerType: '4512003', status: '4515031' }, attestation: { status: '4515013', text: 'Altered mental status; could not sign.' },
    }];
    expect(validateEpcrForFinalize(epcr)).toEqual([]);
  });

  it('refuses codes it cannot interpret and times that run backwards', () => {
    const epcr = overdoseEpcr();
    epcr.payment!.serviceLevel = 'ALS';
    epcr.disposition!.unitDisposition = '4227999';
    epcr.times!.unitOnScene = '2024-10-07T20:21:00-04:00'; // before the unit was notified at 20:22:01
    const problems = validateEpcrForFinalize(epcr);
    expect(problems.map((p) => p.path)).toEqual(['disposition.unitDisposition', 'payment.serviceLevel', 'times.unitOnScene']);
    expect(problems[2]!.message).toBe('Time unit arrived on scene (2024-10-07T20:21:00-04:00) is before unit en route (2024-10-07T20:23:38-04:00)');
  });

  it('refuses text where NEMSIS wants a code: a CAD priority, a medication by name, an impression in words, a code of another list (issue 16)', () => {
    const epcr = overdoseEpcr();
    const med = epcr.medications![0]!;
    const procedure = epcr.procedures![0]!;
    epcr.dispatch!.priority = 'P2';
    epcr.situation!.primaryImpression = 'overdose';
    med.medication = 'Naloxone';
    med.route = '9927029'; // a real eMedications.04 code (Nasotracheal Tube): allowed
    med.doseUnit = '9927029'; // a route code in the dose unit: not an eMedications.06 code
    procedure.successful = '9922005'; // YesNoUnkValues "Yes": eProcedures.06 takes YesNoValues
    epcr.history = { ...epcr.history, allergies: ['Z88.0', 'peanuts'] };
    const problems = validateEpcrForFinalize(epcr);
    expect(problems.map((p) => p.path).sort()).toEqual([
      'dispatch.priority', 'history.allergies', `medications[${med.id}].doseUnit`, `medications[${med.id}].medication`,
      `procedures[${procedure.id}].successful`, 'situation.primaryImpression',
    ].sort());
    expect(problems.find((p) => p.path === 'dispatch.priority')!.message).toBe('Dispatch priority (from the dispatch call): "P2" is not a NEMSIS code for this field: choose one from the list (eDispatch.05)');
    expect(problems.find((p) => p.path.endsWith('.medication'))!.message).toBe('Medication (medication 1): "Naloxone" is not an RxNorm code: type a name and pick from the list, or type the code; your own words go in the field beside it (eMedications.03)');
  });

  it('times in different offsets are compared as instants', () => {
    const epcr = overdoseEpcr();
    epcr.times!.unitEnRoute = '2024-10-07T19:23:38-05:00'; // 20:23:38-04:00
    expect(validateEpcrForFinalize(epcr)).toEqual([]);
  });

  it('refuses, by the server clock, a time in the future (beyond the Schematron hour) and a birth after the call', () => {
    const epcr = overdoseEpcr(); // the call: 2024-10-07 evening, -04:00
    const now = Date.parse('2024-10-08T02:00:00Z'); // 22:00-04:00 the same day
    expect(validateEpcrForFinalize(epcr, { now })).toEqual([]);
    epcr.times!.backInService = '2024-10-07T22:59:00-04:00'; // 59 minutes ahead of the server: a clock that is off
    expect(validateEpcrForFinalize(epcr, { now })).toEqual([]);
    epcr.times!.backInService = '2024-10-09T22:10:00-04:00'; // two days ahead: a wrong date
    epcr.vitals![0]!.takenAt = '2025-10-07T20:40:00-04:00'; // a wrong year
    epcr.patient!.dateOfBirth = '2024-10-08';
    const problems = validateEpcrForFinalize(epcr, { now });
    expect(problems.map((p) => p.path)).toEqual(['times.backInService', `vitals[${epcr.vitals![0]!.id}].takenAt`, 'patient.dateOfBirth']);
    expect(problems[0]!.message).toBe('This time (2024-10-09T22:10:00-04:00) is in the future: check the date');
    expect(problems[2]!.message).toBe('Date of birth 2024-10-08 is after the day of the call (2024-10-07): check the year');
    // Without the clock (the device's own pre-check), no time is judged against one.
    expect(validateEpcrForFinalize(epcr).map((p) => p.path)).toEqual([]);
  });

  it('an addendum needs a reason and a locked original', () => {
    const original = { ...overdoseEpcr(), lockedAt: '2024-10-07T22:00:00-04:00' };
    const addendum: Epcr = { id: '4f0e3bb8-5d43-4d0c-9d7b-3c6f8b2a1d10', tenantId: 't', rev: '1-a', status: 'finalized', unitId: 'u', addendumOf: original.id };
    expect(paths(addendum, original)).toEqual(['addendumReason']);
    expect(paths({ ...addendum, addendumReason: 'mileage corrected' }, original)).toEqual([]);
    expect(paths({ ...addendum, addendumReason: 'x' }, { ...original, lockedAt: undefined } as unknown as Epcr)).toEqual(['addendumOf']);
    expect(paths({ ...addendum, addendumReason: 'x' }, undefined)).toEqual(['addendumOf']);
  });
});

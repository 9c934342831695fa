/**
 * eOutcome: what the hospital reported after the EMS encounter (an admin's entry or an import);
 * what is not known is Not Recorded, as before the hospital answers.
 */
import type { Epcr } from '../../../schemas/index.ts';
import { group, leaf, leaves } from '../nemsis-tree.ts';
import { dateTime, text, texts } from '../values.ts';
import type { XmlElement } from '../xml-writer.ts';

export function eOutcome(epcr: Epcr): XmlElement {
  const outcome = epcr.outcome ?? {};
  return group('eOutcome', [
    leaf('eOutcome.01', text(outcome.edDisposition)),
    leaf('eOutcome.02', text(outcome.hospitalDisposition)),
    (outcome.edProcedures ?? []).map((p) => group('eOutcome.EmergencyDepartmentProceduresGroup', [leaf('eOutcome.09', text(p.code)), leaf('eOutcome.19', dateTime(p.performedAt))])),
    leaves('eOutcome.10', texts(outcome.edDiagnoses)),
    leaf('eOutcome.11', dateTime(outcome.hospitalAdmittedAt)),
    (outcome.hospitalProcedures ?? []).map((p) => group('eOutcome.HospitalProceduresGroup', [leaf('eOutcome.12', text(p.code)), leaf('eOutcome.20', dateTime(p.performedAt))])),
    leaves('eOutcome.13', texts(outcome.hospitalDiagnoses)),
    leaf('eOutcome.16', dateTime(outcome.hospitalDischargedAt)),
    leaf('eOutcome.18', dateTime(outcome.edAdmittedAt)),
  ]);
}

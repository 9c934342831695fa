/**
 * Checks an 837P (005010X222A1) ambulance claim against the implementation guide's structure:
 * envelope pairs and their control numbers and counts (ISA13=IEA02, GS06=GE02, ST02=SE02, SE01 =
 * segments from ST to SE, GE01 = transaction sets, IEA01 = groups), loop order with each loop's
 * required segments (a small grammar below, the subset of the guide an ambulance claim uses),
 * element counts, and the values a payer's front end rejects first: the billing provider's NPI
 * check digit, HCPCS and modifier shape, the claim total against its lines, place of service,
 * CR1/CRC codes, and the accident date a CLM11 auto accident requires.
 *
 * The claim workflow runs it before sending (an invalid file is never sent; the claim stays a
 * dead letter naming the problem) and the tests run it on every file they make.
 */
import { isValidNpi } from './npi.ts';
import { parseX12, X12SyntaxError, type ParsedSegment } from './parse.ts';

type Match = (segment: ParsedSegment) => boolean;
interface SegmentRule { kind: 'segment'; name: string; match: Match; min: number; max: number }
interface LoopRule { kind: 'loop'; name: string; min: number; max: number; children: Rule[] }
type Rule = SegmentRule | LoopRule;

const seg = (name: string, id: string, min: number, max: number, qualifier?: (e: string[]) => boolean): SegmentRule =>
  ({ kind: 'segment', name, match: (s) => s.id === id && (qualifier ? qualifier(s.elements) : true), min, max });
const loop = (name: string, min: number, max: number, children: Rule[]): LoopRule => ({ kind: 'loop', name, min, max, children });
const q = (index: number, ...values: string[]) => (e: string[]) => values.includes(e[index] ?? '');

/** 005010X222A1 from BHT to the last 2400 loop (the subset an ambulance claim uses, in guide order). */
const TRANSACTION: Rule[] = [
  seg('BHT beginning of hierarchical transaction', 'BHT', 1, 1),
  loop('1000A submitter', 1, 1, [seg('NM1*41 submitter name', 'NM1', 1, 1, q(0, '41')), seg('PER submitter contact', 'PER', 1, 2)]),
  loop('1000B receiver', 1, 1, [seg('NM1*40 receiver name', 'NM1', 1, 1, q(0, '40'))]),
  loop('2000A billing provider', 1, 1, [
    seg('HL*20 billing provider level', 'HL', 1, 1, q(2, '20')),
    seg('PRV*BI billing provider specialty', 'PRV', 0, 1, q(0, 'BI')),
    seg('CUR currency', 'CUR', 0, 1),
    loop('2010AA billing provider', 1, 1, [
      seg('NM1*85 billing provider name', 'NM1', 1, 1, q(0, '85')),
      seg('N3 billing provider address', 'N3', 1, 1),
      seg('N4 billing provider city/state/ZIP', 'N4', 1, 1),
      seg('REF*EI/SY billing provider tax id', 'REF', 1, 1, q(0, 'EI', 'SY')),
      seg('REF billing provider UPIN/license', 'REF', 0, 2, q(0, '0B', '1G')),
      seg('PER billing provider contact', 'PER', 0, 2),
    ]),
    loop('2010AB pay-to address', 0, 1, [seg('NM1*87', 'NM1', 1, 1, q(0, '87')), seg('N3', 'N3', 1, 1), seg('N4', 'N4', 1, 1)]),
    loop('2000B subscriber', 1, 1, [
      seg('HL*22 subscriber level', 'HL', 1, 1, q(2, '22')),
      seg('SBR subscriber information', 'SBR', 1, 1),
      seg('PAT patient information', 'PAT', 0, 1),
      loop('2010BA subscriber', 1, 1, [
        seg('NM1*IL subscriber name', 'NM1', 1, 1, q(0, 'IL')),
        seg('N3 subscriber address', 'N3', 0, 1),
        seg('N4 subscriber city/state/ZIP', 'N4', 0, 1),
        seg('DMG subscriber demographics', 'DMG', 0, 1),
        seg('REF subscriber secondary id', 'REF', 0, 2),
      ]),
      loop('2010BB payer', 1, 1, [
        seg('NM1*PR payer name', 'NM1', 1, 1, q(0, 'PR')),
        seg('N3 payer address', 'N3', 0, 1),
        seg('N4 payer city/state/ZIP', 'N4', 0, 1),
        seg('REF payer secondary id', 'REF', 0, 3),
      ]),
      loop('2300 claim', 1, 100, [
        seg('CLM claim information', 'CLM', 1, 1),
        seg('DTP claim dates (accident 439, …)', 'DTP', 0, 17),
        seg('PWK claim supplemental information', 'PWK', 0, 10),
        seg('CN1 contract', 'CN1', 0, 1),
        seg('AMT patient amount paid', 'AMT', 0, 1),
        seg('REF claim references (F8 payer claim number, …)', 'REF', 0, 14),
        seg('K3 file information', 'K3', 0, 10),
        seg('NTE claim note', 'NTE', 0, 1),
        seg('CR1 ambulance transport information', 'CR1', 0, 1),
        seg('CR2 spinal manipulation', 'CR2', 0, 1),
        seg('CRC*07 ambulance certification', 'CRC', 0, 3, q(0, '07')),
        seg('CRC other conditions', 'CRC', 0, 5, q(0, 'E1', 'E2', 'E3', '75', 'ZZ')),
        seg('HI health care diagnosis code', 'HI', 1, 1, (e) => /^(ABK|BK):/.test(e[0] ?? '')),
        seg('HI other health care information', 'HI', 0, 6),
        loop('2310A referring provider', 0, 2, [seg('NM1*DN/P3', 'NM1', 1, 1, q(0, 'DN', 'P3')), seg('REF', 'REF', 0, 3)]),
        loop('2310B rendering provider', 0, 1, [seg('NM1*82', 'NM1', 1, 1, q(0, '82')), seg('PRV', 'PRV', 0, 1), seg('REF', 'REF', 0, 4)]),
        loop('2310C service facility', 0, 1, [seg('NM1*77', 'NM1', 1, 1, q(0, '77')), seg('N3', 'N3', 1, 1), seg('N4', 'N4', 1, 1), seg('REF', 'REF', 0, 3), seg('PER', 'PER', 0, 1)]),
        loop('2310D supervising provider', 0, 1, [seg('NM1*DQ', 'NM1', 1, 1, q(0, 'DQ')), seg('REF', 'REF', 0, 4)]),
        loop('2310E ambulance pick-up location', 1, 1, [seg('NM1*PW pick-up location', 'NM1', 1, 1, q(0, 'PW')), seg('N3 pick-up address', 'N3', 1, 1), seg('N4 pick-up city/state/ZIP', 'N4', 1, 1)]),
        loop('2310F ambulance drop-off location', 1, 1, [seg('NM1*45 drop-off location', 'NM1', 1, 1, q(0, '45')), seg('N3 drop-off address', 'N3', 1, 1), seg('N4 drop-off city/state/ZIP', 'N4', 1, 1)]),
        loop('2400 service line', 1, 50, [
          seg('LX service line number', 'LX', 1, 1),
          seg('SV1 professional service', 'SV1', 1, 1),
          seg('PWK line supplemental information', 'PWK', 0, 10),
          seg('CR1 line ambulance transport', 'CR1', 0, 1),
          seg('CRC line ambulance certification', 'CRC', 0, 3),
          seg('DTP*472 service date', 'DTP', 1, 1, q(0, '472')),
          seg('QTY ambulance patient count', 'QTY', 0, 2, q(0, 'PT', 'FL')),
          seg('REF line references', 'REF', 0, 10),
          seg('AMT line amounts', 'AMT', 0, 2),
          seg('NTE line note', 'NTE', 0, 2),
        ]),
      ]),
    ]),
  ]),
];

/** At most this many elements per segment (the guide's segment definitions). */
const MAX_ELEMENTS: Record<string, number> = {
  BHT: 6, NM1: 12, PER: 8, HL: 4, PRV: 3, N3: 2, N4: 7, REF: 4, SBR: 9, DMG: 3, CLM: 20, DTP: 3, PWK: 9,
  CR1: 10, CRC: 7, HI: 12, LX: 1, SV1: 21, QTY: 4, NTE: 2,
};
/** Elements that must have a value (1-based), beyond what the grammar's qualifiers check. */
const REQUIRED: Record<string, number[]> = {
  BHT: [1, 2, 3, 4, 5, 6], NM1: [1, 2], HL: [1, 3, 4], PRV: [1, 2, 3], N3: [1], N4: [1, 2, 3], REF: [1, 2], SBR: [1, 9],
  DMG: [1, 2, 3], CLM: [1, 2, 5, 6, 7, 8, 9], DTP: [1, 2, 3], PWK: [1, 2], CR1: [4, 5, 6], CRC: [1, 2, 3], HI: [1], LX: [1],
  SV1: [1, 2, 3, 4, 7], PER: [1, 3, 4],
};

export const AMBULANCE_CONDITION_CODES = ['01', '04', '05', '06', '07', '08', '09', '12'] as const;
/** Origin (first letter) and destination (second letter) of the ambulance modifier; X (intermediate stop) only as destination. */
const ORIGIN = 'DEGHIJNPRS';
const DESTINATION = 'DEGHIJNPRSX';

export function validate837p(file: string): string[] {
  let segments: ParsedSegment[];
  let component: string;
  try {
    const parsed = parseX12(file);
    segments = parsed.segments;
    component = parsed.separators.component;
  } catch (error) {
    if (error instanceof X12SyntaxError) return [error.message];
    throw error;
  }
  const problems: string[] = [];
  const at = (s: ParsedSegment) => `${s.id} (segment ${s.position})`;
  const el = (s: ParsedSegment, n: number) => s.elements[n - 1] ?? '';

  // Envelope.
  const isa = segments[0]!;
  const gs = segments[1];
  const st = segments[2];
  const [se, ge, iea] = segments.slice(-3);
  if (!gs || gs.id !== 'GS' || !st || st.id !== 'ST' || se?.id !== 'SE' || ge?.id !== 'GE' || iea?.id !== 'IEA') {
    return ['the interchange must be ISA, GS, ST … SE, GE, IEA with one functional group holding one transaction set'];
  }
  if (el(isa, 12) !== '00501') problems.push(`ISA12 must be 00501, not "${el(isa, 12)}"`);
  if (!/^[0-9]{9}$/.test(el(isa, 13))) problems.push('ISA13 must be a 9-digit interchange control number');
  if (!['P', 'T'].includes(el(isa, 15))) problems.push('ISA15 must be P or T');
  if (el(iea, 2) !== el(isa, 13)) problems.push(`IEA02 ${el(iea, 2)} does not match ISA13 ${el(isa, 13)}`);
  if (el(iea, 1) !== '1') problems.push(`IEA01 says ${el(iea, 1)} functional groups; there is 1`);
  if (el(gs, 1) !== 'HC' || el(gs, 8) !== '005010X222A1') problems.push('GS01 must be HC and GS08 005010X222A1');
  if (el(ge, 2) !== el(gs, 6)) problems.push(`GE02 ${el(ge, 2)} does not match GS06 ${el(gs, 6)}`);
  if (el(ge, 1) !== '1') problems.push(`GE01 says ${el(ge, 1)} transaction sets; there is 1`);
  if (el(st, 1) !== '837' || el(st, 3) !== '005010X222A1') problems.push('ST01 must be 837 and ST03 005010X222A1');
  if (el(se, 2) !== el(st, 2)) problems.push(`SE02 ${el(se, 2)} does not match ST02 ${el(st, 2)}`);
  if (!/^[0-9]{4,9}$/.test(el(st, 2))) problems.push('ST02 must be 4 to 9 digits');
  const body = segments.slice(3, -3);
  if (el(se, 1) !== String(body.length + 2)) problems.push(`SE01 says ${el(se, 1)} segments; ST to SE holds ${body.length + 2}`);

  // Loops in order.
  const end = matchRules(TRANSACTION, body, 0, problems, 'transaction set');
  if (end < body.length) problems.push(`${at(body[end]!)} is not allowed where it stands (after ${end === 0 ? 'ST' : at(body[end - 1]!)}): wrong loop order or an unknown segment`);

  // Elements.
  for (const s of body) {
    const max = MAX_ELEMENTS[s.id];
    if (max !== undefined && s.elements.length > max) problems.push(`${at(s)} has ${s.elements.length} elements; the segment has ${max}`);
    if (s.elements.length > 0 && s.elements[s.elements.length - 1] === '') problems.push(`${at(s)} ends with an empty element`);
    for (const n of REQUIRED[s.id] ?? []) if (el(s, n) === '') problems.push(`${at(s)}: ${s.id}${String(n).padStart(2, '0')} is required`);
  }

  // Values.
  const billing = body.find((s) => s.id === 'NM1' && el(s, 1) === '85');
  if (billing && (el(billing, 8) !== 'XX' || !isValidNpi(el(billing, 9)))) problems.push(`NM1*85: "${el(billing, 9)}" is not an NPI with a valid check digit (NM108 must be XX)`);
  const prv = body.find((s) => s.id === 'PRV');
  if (prv && !/^[0-9]{3}[0-9A-Z]{6}X$/.test(el(prv, 3))) problems.push(`PRV03 "${el(prv, 3)}" is not a provider taxonomy code`);
  const sbr = body.find((s) => s.id === 'SBR');
  if (sbr && el(sbr, 2) === '18') {
    // The patient is the subscriber: 2010BA then requires the address and demographics.
    const il = body.findIndex((s) => s.id === 'NM1' && el(s, 1) === 'IL');
    const loop2010ba = body.slice(il + 1, body.findIndex((s, i) => i > il && s.id === 'NM1'));
    for (const id of ['N3', 'N4', 'DMG']) if (!loop2010ba.some((s) => s.id === id)) problems.push(`2010BA: ${id} is required when the patient is the subscriber (SBR02 18)`);
  }
  const clm = body.find((s) => s.id === 'CLM');
  const lines = body.filter((s) => s.id === 'SV1');
  if (clm) {
    if (el(clm, 1).length > 20) problems.push('CLM01 is longer than 20 characters');
    const [pos, qualifier, frequency] = el(clm, 5).split(component);
    if (!['41', '42'].includes(pos ?? '') || qualifier !== 'B' || !['1', '7', '8'].includes(frequency ?? '')) problems.push(`CLM05 "${el(clm, 5)}" must be place of service 41 or 42, B, frequency 1/7/8`);
    const total = lines.reduce((sum, s) => sum + Math.round(Number(el(s, 2)) * 100), 0);
    if (Math.round(Number(el(clm, 2)) * 100) !== total) problems.push(`CLM02 ${el(clm, 2)} is not the sum of the line charges (${total / 100})`);
    const related = el(clm, 11).split(component);
    if (related[0] === 'AA') {
      if (!/^[A-Z]{2}$/.test(related[3] ?? '')) problems.push('CLM11: an auto accident (AA) needs the state in CLM11-4');
      if (!body.some((s) => s.id === 'DTP' && el(s, 1) === '439')) problems.push('an auto accident (CLM11 AA) needs the accident date (DTP*439)');
    }
    if (['7', '8'].includes(frequency ?? '') && !body.some((s) => s.id === 'REF' && el(s, 1) === 'F8')) problems.push('a replacement or void claim needs the payer claim control number (REF*F8)');
  }
  for (const s of lines) {
    const [qual, code, ...modifiers] = el(s, 1).split(component);
    if (qual !== 'HC' || !/^[A-V][0-9]{4}$/.test(code ?? '')) problems.push(`${at(s)}: SV101 "${el(s, 1)}" must be HC and a HCPCS code`);
    if (modifiers.some((m) => !/^[A-Z0-9]{2}$/.test(m))) problems.push(`${at(s)}: every modifier is two letters or digits`);
    const od = modifiers[0] ?? '';
    if (!(ORIGIN.includes(od[0] ?? '-') && DESTINATION.includes(od[1] ?? '-'))) problems.push(`${at(s)}: the first modifier "${od}" is not an ambulance origin/destination modifier`);
    if (!/^[0-9]+(\.[0-9]{1,2})?$/.test(el(s, 2)) || !/^[0-9]+(\.[0-9])?$/.test(el(s, 4))) problems.push(`${at(s)}: charge and units must be numbers (units to 0.1)`);
  }
  const cr1 = body.find((s) => s.id === 'CR1');
  if (!cr1) problems.push('an ambulance claim needs CR1 (ambulance transport information)');
  else {
    if (!'ABCDE'.includes(el(cr1, 4) || '-')) problems.push(`CR104 "${el(cr1, 4)}" is not an ambulance transport reason (A–E)`);
    if (el(cr1, 5) !== 'DH' || !/^[0-9]+(\.[0-9])?$/.test(el(cr1, 6))) problems.push('CR105 must be DH and CR106 the miles');
    if ((el(cr1, 1) === '') !== (el(cr1, 2) === '')) problems.push('CR101 LB and CR102 weight go together');
  }
  const crc = body.find((s) => s.id === 'CRC' && el(s, 1) === '07');
  if (!crc) problems.push('an ambulance claim needs CRC*07 (ambulance certification)');
  else {
    if (!['Y', 'N'].includes(el(crc, 2))) problems.push('CRC02 must be Y or N');
    for (const code of crc.elements.slice(2)) if (!(AMBULANCE_CONDITION_CODES as readonly string[]).includes(code)) problems.push(`CRC*07: "${code}" is not an ambulance certification condition code`);
  }
  for (const hi of body.filter((s) => s.id === 'HI')) {
    hi.elements.forEach((value, i) => {
      const [qualifier, code] = value.split(component);
      if (qualifier !== (i === 0 ? 'ABK' : 'ABF') || !/^[A-Z][0-9][0-9A-Z]{1,5}$/.test(code ?? '')) problems.push(`HI${String(i + 1).padStart(2, '0')} "${value}" is not an ICD-10-CM code (no dot) with ${i === 0 ? 'ABK' : 'ABF'}`);
    });
  }
  return problems;
}

/** Matches `rules` from `start`; returns where matching stopped. */
function matchRules(rules: Rule[], body: ParsedSegment[], start: number, problems: string[], where: string): number {
  let i = start;
  for (const rule of rules) {
    let count = 0;
    if (rule.kind === 'segment') {
      while (count < rule.max && i < body.length && rule.match(body[i]!)) { i++; count++; }
    } else {
      const trigger = rule.children[0] as SegmentRule;
      while (count < rule.max && i < body.length && trigger.match(body[i]!)) {
        i = matchRules(rule.children, body, i, problems, rule.name);
        count++;
      }
    }
    if (count < rule.min) problems.push(`${where}: ${rule.kind === 'loop' ? 'loop' : 'segment'} ${rule.name} is required${i < body.length ? ` (found ${body[i]!.id} at segment ${body[i]!.position})` : ''}`);
  }
  return i;
}

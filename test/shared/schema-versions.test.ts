/**
 * A schema changed without a version bump makes RxDB refuse to open the collection on every
 * device that holds data from the previous build (DB6), with that data's unsynced changes in it.
 * This fails whenever a collection's schema (as RxDB normalises it) differs from the one recorded
 * in shared/schemas/schema-hashes.json at the same version, or a version has no migration strategy.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectionMigrationStrategies, collectionSchemas, epcrSchema, incidentSchema } from '../../shared/schemas/index.ts';
import { addedOptionalFields } from '../../shared/schemas/migrations.ts';
import { normalisedSchema, schemaVersionProblems, type SchemaManifest } from '../../shared/schemas/schema-hashes.ts';

const manifest = JSON.parse(readFileSync(new URL('../../shared/schemas/schema-hashes.json', import.meta.url), 'utf8')) as SchemaManifest;
const schemas = collectionSchemas as unknown as Record<string, { version: number }>;
const previousBuild = JSON.parse(readFileSync(new URL('../fixtures/schemas-6fec2ed.json', import.meta.url), 'utf8')) as {
  collections: Record<string, { version: number }>;
};

describe('schema versions', () => {
  it('every collection\'s schema is the one recorded for its version, with a migration strategy for each version', () => {
    const problems = schemaVersionProblems(schemas, collectionMigrationStrategies, manifest);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('names the collection and what to do when a schema changed at the same version', () => {
    const changed = { ...schemas, epcrs: { ...epcrSchema, properties: { ...epcrSchema.properties, triageTag: { type: 'string', maxLength: 20 } } } };
    expect(schemaVersionProblems(changed, collectionMigrationStrategies, manifest)).toEqual([
      expect.stringContaining('bump the version of epcrs and add a migration strategy'),
    ]);
  });

  it('wants a migration strategy for a bumped version, and the manifest regenerated', () => {
    const bumped = { ...schemas, incidents: { ...incidentSchema, version: incidentSchema.version + 1 } };
    const problems = schemaVersionProblems(bumped, collectionMigrationStrategies, manifest);
    expect(problems).toEqual([
      expect.stringContaining('npm run schemas:hashes'),
      expect.stringContaining(`no migration strategy to version ${incidentSchema.version + 1}`),
    ]);
    const withStrategy = { ...collectionMigrationStrategies, incidents: { ...collectionMigrationStrategies.incidents, [incidentSchema.version + 1]: addedOptionalFields } };
    expect(schemaVersionProblems(bumped, withStrategy, manifest)).toEqual([expect.stringContaining('npm run schemas:hashes')]);
  });

  it('every collection the previous build (6fec2ed) stored with another schema has a higher version now', () => {
    for (const [name, old] of Object.entries(previousBuild.collections)) {
      const now = schemas[name];
      expect(now, `${name} disappeared`).toBeDefined();
      if (JSON.stringify(normalisedSchema(old)) !== JSON.stringify(normalisedSchema(now))) {
        expect(now!.version, `bump the version of ${name} and add a migration strategy`).toBeGreaterThan(old.version);
      } else {
        expect(now!.version, name).toBe(old.version);
      }
    }
  });
});

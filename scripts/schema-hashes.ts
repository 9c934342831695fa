/**
 * `npm run schemas:hashes`: records each collection's schema version and hash in
 * shared/schemas/schema-hashes.json, after a version bump with its migration strategy
 * (shared/schemas/migrations.ts). test/shared/schema-versions.test.ts compares against it.
 */
import { writeFileSync } from 'node:fs';
import { collectionSchemas } from '../shared/schemas/index.ts';
import { buildManifest } from '../shared/schemas/schema-hashes.ts';

const manifest = buildManifest(collectionSchemas as unknown as Record<string, { version: number }>);
writeFileSync(new URL('../shared/schemas/schema-hashes.json', import.meta.url), `${JSON.stringify(manifest, null, 2)}\n`);
for (const [name, { version }] of Object.entries(manifest.collections)) console.log(`${name}: version ${version}`);

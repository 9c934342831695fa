/**
 * Build step (Node): the validators of every collection's schema generated as code when the apps
 * are built (ajv's standalone code), so a device does not compile them when it opens its
 * database. ajv compiled the crew's schemas in the database worker at every start: 0.3-0.5 s of
 * its CPU in a new tablet's first sync (the ePCR's alone 0.3 s), before and while it stored the
 * slice. The code is the same ajv generates at run time from the same schemas (shared/schemas,
 * the one source): RxDB's schema as its storage sees it (createRxSchema: defaults filled in,
 * keys sorted) and RxDB's ajv options (rxdb/plugins/validate-ajv getAjv).
 *
 * Served as virtual modules by the Vite plugin below: `virtual:fieldsync-validators` lists a
 * loader per schema, each schema's code a module of its own (a worker loads only the collections
 * its app opens). Used by the apps' build (vite.config.ts) and the tests (vitest.config.ts).
 */
import { _, Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { createRxSchema, defaultHashSha256, INTERNAL_STORE_SCHEMA } from 'rxdb';
import type { Plugin } from 'vite';
import { collectionSchemas } from '../../../shared/schemas/index.ts';
import { INTERNAL_SCHEMA_NAME, validatorKey } from './key.ts';

export const VALIDATORS_MODULE = 'virtual:fieldsync-validators';

/** The schemas as RxDB hands them to its storage (and so to the validation wrapper). */
function storageSchemas(): Record<string, object> {
  const schemas: Record<string, object> = { [INTERNAL_SCHEMA_NAME]: INTERNAL_STORE_SCHEMA };
  for (const [name, schema] of Object.entries(collectionSchemas)) {
    schemas[name] = createRxSchema(schema as never, defaultHashSha256).jsonSchema;
  }
  return schemas;
}

/** An ajv as RxDB's validate-ajv plugin makes it (same options, keywords and formats), keeping the code it generates. */
function rxdbAjv(): Ajv {
  const ajv = new Ajv({ strict: true, code: { source: true, esm: true, formats: _`require("ajv-formats/dist/formats").fullFormats` } });
  for (const keyword of ['version', 'keyCompression', 'primaryKey', 'indexes', 'encrypted', 'final', 'sharding', 'internalIndexes', 'attachments', 'ref', 'crdt']) {
    ajv.addKeyword(keyword);
  }
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  return ajv;
}

/**
 * One schema's module: `key` (key.ts) and `validate`. ajv's standalone code reaches its runtime
 * helpers (string lengths in code points, formats) with `require`; here they are imports, read
 * as CommonJS exports whether a bundler (the apps) or Node (the tests) loads them.
 */
export function validatorModule(name: string, schema: object): string {
  const ajv = rxdbAjv();
  ajv.addSchema(schema as never, name);
  let code = standaloneCode(ajv, { validate: name });
  const deps = new Map<string, string>();
  code = code.replace(/require\("([^"]+)"\)/g, (_match, specifier: string) => {
    if (!deps.has(specifier)) deps.set(specifier, `dependency${deps.size}`);
    return `cjs(${deps.get(specifier)!})`;
  });
  const imports = [...deps].map(([specifier, local]) => `import * as ${local} from ${JSON.stringify(specifier.endsWith('.js') ? specifier : `${specifier}.js`)};`);
  return [
    ...imports,
    // A bundler gives a CommonJS module's exports as the namespace; Node as its `default`.
    'const cjs = (ns) => (ns.default && typeof ns.default === "object" && ns.default.__esModule ? ns.default : ns);',
    `export const key = ${JSON.stringify(validatorKey(schema))};`,
    code.replace(/^"use strict";/, ''),
  ].join('\n');
}

/** The Vite plugin serving the validators (generated once per build or test process). */
export function precompiledValidators(): Plugin {
  let schemas: Record<string, object> | undefined;
  const all = () => (schemas ??= storageSchemas());
  const resolved = `\0${VALIDATORS_MODULE}`;
  return {
    name: 'fieldsync-precompiled-validators',
    resolveId(id) {
      return id === VALIDATORS_MODULE || id.startsWith(`${VALIDATORS_MODULE}/`) ? `\0${id}` : null;
    },
    load(id) {
      if (id === resolved) {
        const loaders = Object.keys(all()).map((name) => `  ${JSON.stringify(name)}: () => import(${JSON.stringify(`${VALIDATORS_MODULE}/${name}`)}),`);
        return `export const validators = {\n${loaders.join('\n')}\n};\n`;
      }
      if (!id.startsWith(`${resolved}/`)) return null;
      const name = id.slice(resolved.length + 1);
      const schema = all()[name];
      if (!schema) throw new Error(`${VALIDATORS_MODULE}: no schema named ${name}`);
      return validatorModule(name, schema);
    },
  };
}

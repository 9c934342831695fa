import { Ajv, type ErrorObject } from 'ajv';
import { collectionSchemas, isCollectionName, migrateToCurrentVersion } from '../../shared/schemas/index.ts';
import { primaryKeyOf, toWireSchema, type JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';
import { HttpError } from '../http/errors.ts';
import { unstorableTextError, useRealDateTimes, withRealDateTimes } from './document-checks.ts';
import { useFastStringLengths } from './string-length.ts';
import { ErrorCode } from '../../shared/protocol/index.ts';

/** Like an ajv validate function: true or false, and after false every problem in `errors`. */
export interface DocumentValidator {
  (doc: unknown): boolean;
  errors: ErrorObject[] | null;
}

export interface CollectionSpec {
  name: string;
  primaryKey: string;
  version: number;
  validate: DocumentValidator;
  /** The schema it was compiled from (the push decoder's worker compiles the same one). */
  schema: JsonSchemaObject;
}

export type CollectionRegistry = ReadonlyMap<string, CollectionSpec>;

/**
 * Compiles each collection's RxDB schema into a wire validator. Strict checking, no coercion and
 * no silent removal of unknown fields: a device's document is accepted as sent or refused.
 *
 * Each schema is compiled twice: a validator that stops at the first problem decides, and only a
 * document it refuses is validated again to list every problem. Ajv's all-errors code cannot
 * return early and was about five times slower on a valid ePCR, on every row of every push.
 */
export function buildCollectionRegistry(schemas: Record<string, JsonSchemaObject>): CollectionRegistry {
  const options = { strict: false, coerceTypes: false, useDefaults: false, removeAdditional: false } as const;
  const decide = new Ajv({ ...options, allErrors: false });
  const explain = new Ajv({ ...options, allErrors: true });
  for (const ajv of [decide, explain]) {
    useFastStringLengths(ajv);
    useRealDateTimes(ajv);
  }
  const registry = new Map<string, CollectionSpec>();
  for (const [name, schema] of Object.entries(schemas)) {
    const version = schema.version;
    if (typeof version !== 'number') throw new Error(`schema of ${name} needs a numeric version`);
    const wire = withRealDateTimes(toWireSchema(schema));
    const first = decide.compile(wire);
    const all = explain.compile(wire);
    const validate = ((doc: unknown): boolean => {
      if (first(doc)) {
        // Valid by the schema: the text must also be storable by both stores (document-checks.ts).
        const unstorable = unstorableTextError(doc);
        validate.errors = unstorable ? [unstorable] : null;
        return !unstorable;
      }
      all(doc);
      validate.errors = all.errors ?? first.errors ?? null;
      return false;
    }) as DocumentValidator;
    validate.errors = null;
    registry.set(name, { name, primaryKey: primaryKeyOf(schema), version, validate, schema });
  }
  return registry;
}

export function resolveCollection(registry: CollectionRegistry, name: string): CollectionSpec {
  const spec = registry.get(name);
  if (!spec) {
    throw new HttpError(404, ErrorCode.UNKNOWN_COLLECTION, `There is no collection "${name}". Known collections: ${[...registry.keys()].join(', ')}.`);
  }
  return spec;
}

/**
 * Devices built against an older schema must update before they sync, or they would write
 * documents the server no longer understands (426 is RxServer's convention too). One exception
 * (`olderFromQueue`): a service worker replaying changes an earlier build queued may push them at
 * the version they were queued at; the push route brings them forward with the collection's
 * migration strategies (shared/schemas/migrations.ts). Returns the version the caller uses.
 */
export function checkSchemaVersion(spec: CollectionSpec, raw: unknown, options: { olderFromQueue?: boolean } = {}): number {
  if (raw === undefined || raw === '') {
    throw new HttpError(400, ErrorCode.MISSING_SCHEMA_VERSION, `Add ?schemaVersion=${spec.version} (the ${spec.name} schema version the client was built with).`);
  }
  const version = typeof raw === 'string' && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (Number.isNaN(version)) throw new HttpError(400, ErrorCode.BAD_SCHEMA_VERSION, `schemaVersion must be a whole number, got "${String(raw)}".`);
  if (version < spec.version && !(options.olderFromQueue && migratable(spec))) {
    throw new HttpError(426, ErrorCode.SCHEMA_OUTDATED, `This app uses version ${version} of the ${spec.name} schema; the server needs version ${spec.version}. Update the app (reload it) to keep syncing; your local changes are kept.`);
  }
  if (version > spec.version) {
    throw new HttpError(400, ErrorCode.SCHEMA_TOO_NEW, `The app uses version ${version} of the ${spec.name} schema but the server only knows version ${spec.version}; the server needs an update.`);
  }
  return version;
}

/** A collection whose schema is the registered one (shared/schemas), so its migration strategies lead to this very version. */
function migratable(spec: CollectionSpec): boolean {
  return isCollectionName(spec.name) && collectionSchemas[spec.name].version === spec.version;
}

/**
 * Push rows queued at an older schema version, as rows of the current one: both states go
 * through the collection's migration strategies (the ones RxDB runs on devices). Anything that is
 * not a document, or that a strategy cannot take, is left as sent for the route's own checks to
 * accept or refuse (a refused row is kept: quarantine on the server, the rejected list on the device).
 */
export function migratePushRows(spec: CollectionSpec, fromVersion: number, body: unknown): unknown {
  if (!Array.isArray(body) || !isCollectionName(spec.name) || !migratable(spec)) return body;
  const name = spec.name;
  const migrate = (state: unknown): unknown => {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) return state;
    try {
      return migrateToCurrentVersion(name, fromVersion, state as Record<string, unknown>);
    } catch {
      return state;
    }
  };
  return body.map((row: unknown) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return row;
    const { newDocumentState, assumedMasterState, ...rest } = row as Record<string, unknown>;
    return {
      ...rest,
      newDocumentState: migrate(newDocumentState),
      ...(assumedMasterState === undefined ? {} : { assumedMasterState: migrate(assumedMasterState) }),
    };
  });
}

export function describeSchemaErrors(errors: ErrorObject[] | null | undefined): { path: string; message: string }[] {
  return (errors ?? []).slice(0, 20).map((e) => {
    const base = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty?: string }).additionalProperty);
      return { path: base ? `${base}.${extra}` : extra, message: `unknown field "${extra}"` };
    }
    if (e.keyword === 'required') {
      const missing = String((e.params as { missingProperty?: string }).missingProperty);
      return { path: base ? `${base}.${missing}` : missing, message: `required field "${missing}" is missing` };
    }
    return { path: base || '(document)', message: e.message ?? 'invalid value' };
  });
}

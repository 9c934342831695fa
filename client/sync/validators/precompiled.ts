/**
 * The storage wrapper that validates every write (as rxdb/plugins/validate-ajv does, with the same
 * ajv and the same schemas), using the validators generated when the apps were built (build.ts)
 * instead of compiling them when the database opens. A schema without a generated validator (an
 * earlier version of a collection being migrated, or a process without the build step: the
 * benchmarks run the library by tsx) is compiled at run time, as before: nothing is written
 * unvalidated.
 */
import { wrappedValidateStorageFactory } from 'rxdb';
import { getValidator as compileValidator } from 'rxdb/plugins/validate-ajv';
import { INTERNAL_SCHEMA_NAME, validatorKey } from './key.ts';

type Validate = ((doc: unknown) => boolean) & { errors?: unknown[] | null };

/** Generated validators loaded so far, by validatorKey. */
const loaded = new Map<string, Validate>();

/**
 * Loads the generated validators of these collections and of RxDB's own store; before the
 * database opens, so its first writes find them (RxDB keeps the first validator it gets per schema).
 */
export async function loadValidators(collections: readonly string[]): Promise<void> {
  let modules: Record<string, () => Promise<{ key: string; validate: Validate }>>;
  try {
    modules = (await import('virtual:fieldsync-validators')).validators;
  } catch {
    // Not built by Vite (Node with tsx): every schema is compiled at run time.
    return;
  }
  await Promise.all([INTERNAL_SCHEMA_NAME, ...collections].map(async (name) => {
    // A chunk that does not load (say, a cache without it) leaves that schema to be compiled.
    const module = await modules[name]?.().catch(() => undefined);
    if (module) loaded.set(module.key, module.validate);
  }));
}

/** Whether writes of this schema are checked by a generated validator (not compiled at run time). */
export function hasGeneratedValidator(schema: object): boolean {
  return loaded.has(validatorKey(schema));
}

/** RxDB's validator shape: the errors, none when valid. */
function validatorOf(schema: object): (doc: unknown) => unknown[] {
  const validate = loaded.get(validatorKey(schema));
  if (!validate) return compileValidator(schema as never) as (doc: unknown) => unknown[];
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []));
}

export const wrappedValidatePrecompiledStorage = wrappedValidateStorageFactory(validatorOf as never, 'ajv-precompiled');

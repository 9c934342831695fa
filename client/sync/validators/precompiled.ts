/**
 * The storage wrapper that validates every write (as rxdb/plugins/validate-ajv does, with the same
 * ajv and the same schemas), using the validators generated when the apps were built (build.ts)
 * instead of compiling them when the database opens. A schema without a generated validator (an
 * earlier version of a collection being migrated, or a process without the build step: the
 * benchmarks run the library by tsx) is compiled at run time, as before: nothing is written
 * unvalidated.
 */
import { wrappedValidateStorageFactory, type RxStorage } from 'rxdb';
import { INTERNAL_SCHEMA_NAME, validatorKey } from './key.ts';

type Validate = ((doc: unknown) => boolean) & { errors?: unknown[] | null };

/** Generated validators loaded so far, by validatorKey. */
const loaded = new Map<string, Validate>();

type ValidatorLoaders = Record<string, () => Promise<{ key: string; validate: Validate }>>;

/** The generated validators' loaders, from the Vite plugin (build.ts). */
const builtLoaders = async (): Promise<ValidatorLoaders> => (await import('virtual:fieldsync-validators')).validators;

/** Node's refusal of the `virtual:` module: this process was not built by Vite (the library run by tsx). */
const notBuiltByVite = (error: unknown) => (error as { code?: unknown } | undefined)?.code === 'ERR_UNSUPPORTED_ESM_URL_SCHEME';

/**
 * Loads the generated validators of these collections and of RxDB's own store; before the
 * database opens, so its first writes find them (RxDB keeps the first validator it gets per schema).
 * A generated validator that does not load fails the open, naming it: the chunks are built and
 * cached with the database worker itself, so one missing or broken is a broken build or
 * install, to be seen, not quietly replaced by compiling at run time. `loaders`: the tests' seam.
 */
export async function loadValidators(collections: readonly string[], loaders: () => Promise<ValidatorLoaders> = builtLoaders): Promise<void> {
  let modules: ValidatorLoaders;
  try {
    modules = await loaders();
  } catch (error) {
    // Not built by Vite (Node with tsx): every schema is compiled at run time.
    if (notBuiltByVite(error)) return;
    throw new Error(`the list of generated validators did not load (${String(error)}); reload the app`, { cause: error });
  }
  await Promise.all([INTERNAL_SCHEMA_NAME, ...collections].map(async (name) => {
    const load = modules[name];
    // None generated for it (a collection added since the build): compiled at run time.
    if (!load) return;
    const module = await load().catch((error: unknown) => {
      throw new Error(`the generated validator of ${name} did not load (${String(error)}); reload the app`, { cause: error });
    });
    if (typeof module?.key !== 'string' || typeof module.validate !== 'function') {
      throw new Error(`the generated validator of ${name} is broken (no key or validate function); the app's build is faulty`);
    }
    loaded.set(module.key, module.validate);
  }));
}

/** Whether writes of this schema are checked by a generated validator (not compiled at run time). */
export function hasGeneratedValidator(schema: object): boolean {
  return loaded.has(validatorKey(schema));
}

type Validator = (doc: unknown) => unknown[];

/** RxDB's ajv compiler (rxdb/plugins/validate-ajv), once loaded: only for a schema without generated code. */
let compile: ((schema: never) => Validator) | undefined;
let compilerLoad: Promise<void> | undefined;
function loadCompiler(): Promise<void> {
  compilerLoad ??= import('rxdb/plugins/validate-ajv').then((m) => {
    compile = m.getValidator as never;
  }, (error: unknown) => {
    compilerLoad = undefined;
    throw new Error(`the validator of a schema without generated code did not load (${String(error)}); reload the app`);
  });
  return compilerLoad;
}

/** RxDB's validator shape: the errors, none when valid. */
function validatorOf(schema: object): Validator {
  const validate = loaded.get(validatorKey(schema));
  if (validate) return (doc) => (validate(doc) ? [] : (validate.errors ?? []));
  // Loaded before any storage instance of this schema was made (below): never reached without it.
  if (!compile) throw new Error(`no validator for the schema ${String((schema as { title?: unknown }).title)}: ajv was not loaded`);
  return compile(schema as never);
}

const validating = wrappedValidateStorageFactory(validatorOf as never, 'ajv-precompiled');

/**
 * RxDB's validation wrapper with the generated validators. ajv itself (with its URI and format
 * libraries, about a sixth of the database worker's code) is loaded only when a storage instance
 * of a schema without generated code is made, before RxDB can write to it: not at every start.
 */
export function wrappedValidatePrecompiledStorage(args: { storage: RxStorage<unknown, unknown> }): RxStorage<unknown, unknown> {
  const validated = validating(args as never) as RxStorage<unknown, unknown>;
  return {
    ...validated,
    async createStorageInstance(params) {
      if (!hasGeneratedValidator(params.schema)) await loadCompiler();
      return validated.createStorageInstance(params);
    },
  };
}

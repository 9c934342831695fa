/**
 * Compiles NEMSIS's national ISO Schematron (EMSDataSet.sch) into a SaxonJS stylesheet (SEF), the
 * way NEMSIS's own CompileSchematron utility does (../shared/nemsis/README.md):
 * iso_dsdl_include.xsl → iso_abstract_expand.xsl → iso_svrl_for_xslt2.xsl (allow-foreign=true, or
 * the element-name lookup table the messages use is dropped) → compiled by xslt3 to SEF.
 *
 * Compiling takes about a minute of CPU, running the result well under a second, so the SEF is
 * made once per source and kept in a cache directory under a name holding the hash of the rules,
 * the skeleton XSLTs and the compiler version: a new NEMSIS release (or a new SaxonJS) gets its own
 * file, and nothing is ever copied into the project. It is done in child processes (the xslt3
 * command line), so a server compiling it keeps serving. Two processes sharing the cache (test
 * workers, a second server) compile it once: the first takes a lock file, the others wait for it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const SCHEMATRON_SUBDIR = 'schematron';
const SKELETON_SUBDIR = 'iso-schematron-xslt2';
const COMPILE_STEP_TIMEOUT_MS = 10 * 60_000;
/** A lock older than this belongs to a compile that died; it is taken over. */
const STALE_LOCK_MS = 15 * 60_000;
const LOCK_POLL_MS = 500;

/** Where compiled Schematron is kept when nothing else is configured (SCHEMATRON_CACHE_DIR). */
export function defaultSchematronCacheDir(): string {
  return path.join(os.tmpdir(), 'fieldsync-schematron');
}

export interface SchematronSource {
  /** The NEMSIS directory (NEMSIS_DIR): holds schematron/EMSDataSet.sch and schematron/iso-schematron-xslt2/. */
  nemsisDir: string;
  /** Which data set's rules: EMSDataSet.sch (finalize) or DEMDataSet.sch (the DEMDataSet export). */
  dataSet?: 'EMSDataSet' | 'DEMDataSet';
}

const require = createRequire(import.meta.url);

function xslt3Cli(): string {
  return require.resolve('xslt3/xslt3.js');
}

function xslt3Version(): string {
  return (require('xslt3/package.json') as { version: string }).version;
}

/** Hash of everything the compiled stylesheet depends on: the rules, the skeleton, the compiler. */
export async function schematronSourceHash(source: SchematronSource): Promise<string> {
  const dir = path.join(source.nemsisDir, SCHEMATRON_SUBDIR);
  const rules = path.join(dir, `${source.dataSet ?? 'EMSDataSet'}.sch`);
  const skeletonDir = path.join(dir, SKELETON_SUBDIR);
  const hash = createHash('sha256');
  let skeleton: string[];
  try {
    hash.update(await readFile(rules));
    skeleton = (await readdir(skeletonDir)).filter((name) => name.endsWith('.xsl')).sort();
  } catch (error) {
    throw new Error(
      `The national Schematron was not found (${rules} and ${skeletonDir}/*.xsl): ${(error as Error).message}. ` +
        'NEMSIS_DIR must be the NEMSIS directory with its schematron/ folder (see ../shared/nemsis/README.md).',
    );
  }
  for (const name of skeleton) hash.update(name).update(await readFile(path.join(skeletonDir, name)));
  hash.update(`xslt3@${xslt3Version()}`);
  return hash.digest('hex').slice(0, 24);
}

/**
 * The compiled SEF of the national Schematron: its path in `cacheDir`, compiled first if it is not
 * there yet. Throws with the compiler's message when it cannot be made.
 */
export async function compiledSchematron(source: SchematronSource, cacheDir = defaultSchematronCacheDir()): Promise<string> {
  const dataSet = source.dataSet ?? 'EMSDataSet';
  const hash = await schematronSourceHash(source);
  const sefPath = path.join(cacheDir, `${dataSet}-${hash}.sef.json`);
  if (await exists(sefPath)) return sefPath;
  await mkdir(cacheDir, { recursive: true });
  const lockPath = `${sefPath}.lock`;
  for (;;) {
    const lock = await tryLock(lockPath);
    if (lock) {
      try {
        if (!(await exists(sefPath))) await compile(source, dataSet, sefPath);
        return sefPath;
      } finally {
        await lock.close();
        await rm(lockPath, { force: true });
      }
    }
    // Another process is compiling it: wait for its result (or for its lock to go stale).
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    if (await exists(sefPath)) return sefPath;
  }
}

async function compile(source: SchematronSource, dataSet: string, sefPath: string): Promise<void> {
  const dir = path.join(source.nemsisDir, SCHEMATRON_SUBDIR);
  const skeleton = (name: string) => path.join(dir, SKELETON_SUBDIR, name);
  const work = `${sefPath}.${process.pid}.work`;
  await mkdir(work, { recursive: true });
  try {
    const included = path.join(work, '1-included.sch');
    const expanded = path.join(work, '2-expanded.sch');
    const xslt = path.join(work, '3-rules.xsl');
    const sef = path.join(work, '4-rules.sef.json');
    await runXslt3([`-xsl:${skeleton('iso_dsdl_include.xsl')}`, `-s:${path.join(dir, `${dataSet}.sch`)}`, `-o:${included}`]);
    await runXslt3([`-xsl:${skeleton('iso_abstract_expand.xsl')}`, `-s:${included}`, `-o:${expanded}`]);
    await runXslt3([`-xsl:${skeleton('iso_svrl_for_xslt2.xsl')}`, `-s:${expanded}`, `-o:${xslt}`, 'allow-foreign=true']);
    await runXslt3([`-xsl:${xslt}`, `-export:${sef}`, '-nogo', '-relocate:on']);
    // Renamed into place whole: a reader never sees a half-written stylesheet.
    await rename(sef, sefPath);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function runXslt3(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // The compiler needs more than the default heap for the 1 MB stylesheet the rules become.
    const child = spawn(process.execPath, ['--max-old-space-size=2048', xslt3Cli(), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'], timeout: COMPILE_STEP_TIMEOUT_MS,
    });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => reject(new Error(`Could not run the xslt3 compiler (npm package xslt3): ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const output = Buffer.concat(stderr).toString('utf8').trim().slice(-2000);
      reject(new Error(`Compiling the national Schematron failed at "xslt3 ${args.join(' ')}" (${signal ?? `exit code ${code}`}): ${output || 'no output'}`));
    });
  });
}

async function tryLock(lockPath: string): Promise<{ close(): Promise<void> } | undefined> {
  try {
    return await open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const info = await stat(lockPath).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) await rm(lockPath, { force: true });
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Validation of an EMSDataSet document as a state's receiver does it: the XSD with libxml2's
 * xmllint (Debian package libxml2-utils), and the national Schematron with SaxonJS
 * (schematron.ts). A document that breaks them is a result ({ valid: false }); a validator that
 * cannot run (xmllint missing, schema or rules missing or broken) is an Error, so callers never
 * mistake a setup problem for a bad report.
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { sharedSchematronValidator, type SchematronFinding } from './schematron.ts';

export interface EmsDataSetValidation {
  valid: boolean;
  /** One message per problem, "line N: ..." with the NEMSIS namespace stripped from element names. */
  errors: string[];
}

const SCHEMA_FILE = 'EMSDataSet_v3.xsd';
const VALIDATION_TIMEOUT_MS = 60_000;
// xmllint exit codes: 0 valid, 1 not well-formed, 3/4 schema-invalid, 5 the schema itself failed to compile.
const EXIT_VALID = 0;
const EXIT_INVALID = new Set([1, 3, 4]);

export interface EmsDataSetCheck {
  /** True when the XSD and the national Schematron found no error (warnings allowed). */
  valid: boolean;
  /** XSD messages (xmllint), "line N: ...". */
  xsdErrors: string[];
  /** National Schematron [ERROR]s; empty when the document is not well-formed XML (the XSD says so). */
  schematronErrors: SchematronFinding[];
  /** National Schematron [WARNING]s: shown, never blocking. */
  schematronWarnings: SchematronFinding[];
  /** Milliseconds the Schematron took (on its worker). */
  schematronMs: number;
}

export interface EmsDataSetCheckOptions {
  /** The NEMSIS directory (NEMSIS_DIR): the XSDs, and the national Schematron in schematron/. */
  nemsisDir: string;
  /** Where the compiled Schematron is cached (SCHEMATRON_CACHE_DIR). */
  schematronCacheDir?: string;
}

/** The XSD and the national Schematron, run side by side. */
export async function validateEmsDataSet(xml: string, options: EmsDataSetCheckOptions): Promise<EmsDataSetCheck> {
  const schematron = sharedSchematronValidator({ nemsisDir: options.nemsisDir, ...(options.schematronCacheDir ? { cacheDir: options.schematronCacheDir } : {}) });
  const [xsd, rules] = await Promise.all([
    validateEmsDataSetXsd(xml, { xsdDir: options.nemsisDir }),
    schematron.validate(xml).then((result) => ({ result }), (error: unknown) => ({ error: error as Error })),
  ]);
  if ('error' in rules) {
    // A document that is not XML cannot be checked by the rules; the XSD's message says why.
    if (!xsd.valid && notWellFormed(xsd.errors)) return { valid: false, xsdErrors: xsd.errors, schematronErrors: [], schematronWarnings: [], schematronMs: 0 };
    throw rules.error;
  }
  const { errors, warnings, ms } = rules.result;
  return { valid: xsd.valid && errors.length === 0, xsdErrors: xsd.errors, schematronErrors: errors, schematronWarnings: warnings, schematronMs: ms };
}

function notWellFormed(errors: string[]): boolean {
  return errors.some((error) => /parser error|not well-formed|Premature end|Opening and ending tag mismatch|Start tag expected/i.test(error));
}

/** The XSD alone (xmllint); `schemaFile` DEMDataSet_v3.xsd for a DEMDataSet. */
export async function validateEmsDataSetXsd(xml: string, options: { xsdDir: string; schemaFile?: string }): Promise<EmsDataSetValidation> {
  const schemaPath = path.resolve(options.xsdDir, options.schemaFile ?? SCHEMA_FILE);
  try {
    await access(schemaPath);
  } catch {
    throw new Error(
      `NEMSIS schema not found at ${schemaPath}; pass as xsdDir the directory holding ${SCHEMA_FILE} and the e*_v3.xsd files it includes`,
    );
  }
  const { exitCode, stderr } = await runXmllint(['--noout', '--schema', schemaPath, '-'], xml);
  if (exitCode === EXIT_VALID) return { valid: true, errors: [] };
  if (exitCode !== null && EXIT_INVALID.has(exitCode)) return { valid: false, errors: parseErrors(stderr) };
  throw new Error(
    `xmllint could not validate against ${schemaPath} (exit code ${exitCode}): ${stderr.trim() || 'no output'}. ` +
      'Check that the directory holds the complete NEMSIS XSD set.',
  );
}

function runXmllint(args: string[], input: string): Promise<{ exitCode: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('xmllint', args, { stdio: ['pipe', 'ignore', 'pipe'], timeout: VALIDATION_TIMEOUT_MS });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new Error(
              'xmllint is not on PATH; install libxml2-utils (Debian/Ubuntu: apt-get install -y libxml2-utils) to validate NEMSIS exports',
            )
          : new Error(`Could not run xmllint: ${error.message}`),
      );
    });
    child.on('close', (exitCode, signal) => {
      if (signal) {
        reject(new Error(`xmllint was stopped by ${signal} (timeout ${VALIDATION_TIMEOUT_MS} ms?) before it finished validating`));
        return;
      }
      resolve({ exitCode, stderr: Buffer.concat(stderr).toString('utf8') });
    });
    // xmllint may exit before reading all input (e.g. it cannot start); the exit code reports that.
    child.stdin.on('error', () => {});
    child.stdin.end(input, 'utf8');
  });
}

const NEMSIS_NAMESPACE_PREFIX = /\{http:\/\/www\.nemsis\.org\}/g;
// "-:12: element eRecord: Schemas validity error : Element 'x': ..." or "-:1: parser error : ..."
const XMLLINT_MESSAGE = /^-:(\d+): (?:element [^:]+: )?(?:[^:]*error) : (.*)$/;

function parseErrors(stderr: string): string[] {
  const lines = stderr.split('\n').map((line) => line.trimEnd()).filter((line) => line && !/^- (fails to validate|validates)$/.test(line));
  const messages = lines.filter((line) => line.startsWith('-:'));
  // Parser errors add a context line and a caret line after the message; only the message matters.
  const chosen = messages.length > 0 ? messages : lines;
  const errors = chosen.map((line) => {
    const match = XMLLINT_MESSAGE.exec(line);
    const message = match ? `line ${match[1]}: ${match[2]}` : line;
    return message.replace(NEMSIS_NAMESPACE_PREFIX, '');
  });
  return errors.length > 0 ? errors : ['xmllint reported the document invalid without a message'];
}

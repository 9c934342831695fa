/**
 * Runs the compiled national Schematron (schematron-compile.ts) with SaxonJS on a worker thread:
 * one report takes 0.2–1 s of CPU, which must not stop the server's event loop. Loads the SEF once,
 * then answers `{ id, xml }` with the SVRL's failed asserts and successful reports.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { SchematronRequest, SchematronWorkerReply, RawSchematronFinding } from './schematron.ts';

interface SaxonJs {
  transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: unknown };
  XPath: { evaluate(expression: string, context: unknown, options: Record<string, unknown>): unknown };
}

const saxon = createRequire(import.meta.url)('saxon-js') as SaxonJs;

const NAMESPACES = { svrl: 'http://purl.oclc.org/dsdl/svrl', nem: 'http://www.nemsis.org' };
/** Every finding of the SVRL report, with the NEMSIS diagnostic's element locations and missing element names. */
const FINDINGS = `for $a in //(svrl:failed-assert | svrl:successful-report) return map {
  'id': string($a/@id),
  'role': string($a/@role),
  'location': string($a/@location),
  'text': normalize-space(string-join($a/svrl:text, ' ')),
  'elements': array { $a/svrl:diagnostic-reference/nem:nemsisDiagnostic/nem:elements/nem:element/@location ! string(.) },
  'missing': array { $a/svrl:diagnostic-reference/nem:nemsisDiagnostic/nem:elementsMissing/nem:element/@name ! string(.) }
}`;

const { sefPath } = workerData as { sefPath: string };
let stylesheet: unknown;
try {
  stylesheet = JSON.parse(readFileSync(sefPath, 'utf8'));
  parentPort!.postMessage({ ready: true } satisfies SchematronWorkerReply);
} catch (error) {
  parentPort!.postMessage({ ready: false, error: `Could not load the compiled Schematron ${sefPath}: ${(error as Error).message}` } satisfies SchematronWorkerReply);
}

parentPort!.on('message', (request: SchematronRequest) => {
  const started = performance.now();
  try {
    const svrl = saxon.transform({ stylesheetInternal: stylesheet, sourceText: request.xml, destination: 'document' }, 'sync').principalResult;
    const findings = saxon.XPath.evaluate(FINDINGS, svrl, { namespaceContext: NAMESPACES, resultForm: 'array' }) as RawSchematronFinding[];
    parentPort!.postMessage({ id: request.id, findings, ms: performance.now() - started } satisfies SchematronWorkerReply);
  } catch (error) {
    const message = (error as { message?: string }).message ?? String(error);
    parentPort!.postMessage({ id: request.id, error: message } satisfies SchematronWorkerReply);
  }
});

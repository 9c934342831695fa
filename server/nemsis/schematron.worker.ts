/**
 * Runs the compiled national Schematron (schematron-compile.ts) with SaxonJS on a worker thread:
 * one report takes 0.2–1 s of CPU, which must not stop the server's event loop. Loads the SEF once,
 * then answers `{ id, xml }` with the SVRL's failed asserts and successful reports.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { SchematronRequest, SchematronWorkerReply } from './schematron.ts';
import { FINDINGS_XPATH, SVRL_NAMESPACES, type RawSchematronFinding } from '../../shared/nemsis/schematron-findings.ts';

interface SaxonJs {
  transform(options: Record<string, unknown>, mode: 'sync'): { principalResult: unknown };
  XPath: { evaluate(expression: string, context: unknown, options: Record<string, unknown>): unknown };
}

const saxon = createRequire(import.meta.url)('saxon-js') as SaxonJs;

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
    const findings = saxon.XPath.evaluate(FINDINGS_XPATH, svrl, { namespaceContext: SVRL_NAMESPACES, resultForm: 'array' }) as RawSchematronFinding[];
    parentPort!.postMessage({ id: request.id, findings, ms: performance.now() - started } satisfies SchematronWorkerReply);
  } catch (error) {
    const message = (error as { message?: string }).message ?? String(error);
    parentPort!.postMessage({ id: request.id, error: message } satisfies SchematronWorkerReply);
  }
});

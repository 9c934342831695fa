/// <reference lib="webworker" />
/**
 * The national Schematron on the device: a dedicated Web Worker, started on the first finalize
 * (its 2.3 MB bundle is loaded then, from the service worker's precache when offline), that runs
 * the rules the server runs (the SEF from `EPCRS.nemsisRules`) with SaxonJS on a report's NEMSIS
 * XML and answers with the SVRL's findings. The rules are parsed once and kept for later checks.
 */
import './node-globals.ts';
import SaxonJS from 'saxon-js';
import { FINDINGS_XPATH, SVRL_NAMESPACES, type RawSchematronFinding } from '../../../../shared/nemsis/schematron-findings.ts';

export interface RulesRequest { id: number; xml: string; etag: string; rules?: string }
export type RulesReply =
  | { id: number; findings: RawSchematronFinding[]; ms: number }
  | { id: number; error: string }
  /** The worker does not hold rules `etag`: send them. */
  | { id: number; needRules: true };

let loaded: { etag: string; stylesheet: unknown } | undefined;

self.onmessage = (event: MessageEvent<RulesRequest>) => {
  const { id, xml, etag, rules } = event.data;
  const post = (reply: RulesReply) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply);
  try {
    if (rules !== undefined) loaded = { etag, stylesheet: JSON.parse(rules) as unknown };
    if (!loaded || loaded.etag !== etag) {
      post({ id, needRules: true });
      return;
    }
    const started = performance.now();
    const svrl = SaxonJS.transform({ stylesheetInternal: loaded.stylesheet, sourceText: xml, destination: 'document' }, 'sync').principalResult;
    const findings = SaxonJS.XPath.evaluate(FINDINGS_XPATH, svrl, { namespaceContext: SVRL_NAMESPACES, resultForm: 'array' }) as RawSchematronFinding[];
    post({ id, findings, ms: performance.now() - started });
  } catch (error) {
    post({ id, error: (error as { message?: string }).message ?? String(error) });
  }
};

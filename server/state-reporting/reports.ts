/**
 * What an agency reports to its state, read from the store: its locked reports of a period with
 * their stored NEMSIS exports, its units and people, combined into the files a state takes.
 */
import { createHash } from 'node:crypto';
import type { Epcr } from '../../shared/schemas/index.ts';
import { nemsisArtifactKey } from '../hooks/workflows/epcr-nemsis-export.ts';
import { NEMSIS_NAMESPACE, XSI_NAMESPACE } from '../../shared/nemsis/export/nemsis-tree.ts';
import type { Store } from '../store/types.ts';

/** One file or one submission request takes at most this many reports; a longer period is refused with advice. */
export const MAX_REPORTS_PER_PERIOD = 1000;
const PAGE = 500;

export interface Period {
  from: Date;
  to: Date;
}

export interface LockedReport {
  id: string;
  lockedAt: string;
  /** The stored export (the amended one when addenda were locked); undefined while it is not made. */
  xml: string | undefined;
}

/** Every live document of a collection of the agency, in commit order. */
export async function allDocuments<T>(store: Store, collection: string, tenantId: string): Promise<T[]> {
  const docs: T[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await store.pull({ collection, tenantId, afterSeq, limit: PAGE });
    for (const row of page.documents) {
      const doc = JSON.parse(row.json) as T & { _deleted?: boolean };
      if (!doc._deleted) docs.push(doc);
    }
    if (page.documents.length < PAGE) return docs;
    afterSeq = page.lastSeq;
  }
}

/**
 * The agency's reports locked within [from, to) (originals only: an addendum's values are in its
 * report's export), oldest lock first, each with its stored export. Reads every report of the
 * agency: fine for an agency's volume today, a lockedAt index when it is not (docs limitations).
 */
export async function lockedReports(store: Store, tenantId: string, period: Period): Promise<LockedReport[]> {
  const from = period.from.getTime();
  const to = period.to.getTime();
  const locked = (await allDocuments<Epcr>(store, 'epcrs', tenantId))
    .filter((r) => r.lockedAt && !r.addendumOf && Date.parse(r.lockedAt) >= from && Date.parse(r.lockedAt) < to)
    .sort((a, b) => Date.parse(a.lockedAt!) - Date.parse(b.lockedAt!) || a.id.localeCompare(b.id));
  const out: LockedReport[] = [];
  for (const report of locked) {
    const artifact = await store.getArtifact(nemsisArtifactKey(report.id), tenantId);
    out.push({ id: report.id, lockedAt: report.lockedAt!, xml: artifact?.content });
  }
  return out;
}

const DEMOGRAPHIC_GROUP = /<DemographicGroup>[\s\S]*?<\/DemographicGroup>/;
const PATIENT_CARE_REPORT = /<PatientCareReport\b[\s\S]*?<\/PatientCareReport>/g;

/**
 * One EMSDataSet holding the given exports: one Header per agency identity (an export made before
 * the agency's settings changed keeps the identity it was validated with), each with its reports.
 * The exports are this server's own serialisation (xml-writer.ts escapes every text), so their
 * DemographicGroup and PatientCareReport elements are cut out as text, unchanged.
 */
export function combineEmsDataSets(exports: readonly string[]): string {
  const headers = new Map<string, string[]>();
  for (const xml of exports) {
    const demographic = DEMOGRAPHIC_GROUP.exec(xml)?.[0];
    const reports = xml.match(PATIENT_CARE_REPORT);
    if (!demographic || !reports) throw new Error('a stored NEMSIS export has no DemographicGroup or PatientCareReport; it was not made by this server');
    headers.set(demographic, [...(headers.get(demographic) ?? []), ...reports]);
  }
  const body = [...headers].map(([demographic, reports]) => `  <Header>\n    ${demographic}\n    ${reports.join('\n    ')}\n  </Header>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<EMSDataSet xmlns="${NEMSIS_NAMESPACE}" xmlns:xsi="${XSI_NAMESPACE}">\n${body}\n</EMSDataSet>\n`;
}

/** Which version of a report's export: submitting the same content twice is never needed. */
export function contentHash(xml: string): string {
  return createHash('sha256').update(xml).digest('hex').slice(0, 32);
}

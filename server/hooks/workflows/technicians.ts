/**
 * Who should take a new job: technicians are known by the `sourceId` of their GPS fixes
 * (`sourceType: technician`, which the phone sends while a job is active); among the available
 * ones (none of their jobs en route or on site) the nearest by last known fix wins, and among
 * technicians about as near (within EQUALLY_NEAR_M) the one with the fewest open jobs. When no
 * one is available, the same rule over everyone: the job waits in the nearest queue rather than
 * in none.
 *
 * The store has no "latest fix per technician" or "open jobs per assignee" query, so this keeps
 * a per-tenant view built by paging `store.pull` (commit order) and, after the first time, only
 * reading what was committed since. Commit order, not the device's `recordedAt`, decides which
 * fix is the latest, as the gps_points schema prescribes.
 */
import { distanceM } from '../../../shared/domain/distance.ts';
import { ACTIVE_JOB_STATUSES } from '../../../shared/schemas/jobs.ts';
import type { Store } from '../../store/types.ts';

export const EQUALLY_NEAR_M = 200;
const PAGE = 1000;
/** Job statuses that keep a technician busy. */
const OPEN_JOB_STATUSES: ReadonlySet<string> = new Set(['assigned', 'en_route', 'on_site', 'left_site', 'offline']);
/** Job statuses during which a technician is at work on a job (shared/schemas/jobs.ts ACTIVE_JOB_STATUSES): not available. */
const BUSY_JOB_STATUSES: ReadonlySet<string> = new Set<string>(ACTIVE_JOB_STATUSES);

export interface Position { lat: number; lng: number }
export interface Candidate { id: string; position: Position; openJobs: number; /** At work on a job now (en route or on site). */ busy?: boolean }

interface TenantView {
  gpsSeq: number;
  positions: Map<string, Position & { recordedAt: string }>;
  jobsSeq: number;
  jobs: Map<string, { assigneeId?: string; status?: string }>;
}

/** The technician to assign, or undefined when none is known. Without a site position, the least loaded. */
export function chooseTechnician(all: readonly Candidate[], site: Position | undefined): string | undefined {
  if (all.length === 0) return undefined;
  const available = all.filter((c) => !c.busy);
  const candidates = available.length > 0 ? available : all;
  const ranked = candidates.map((c) => ({ ...c, distance: site ? distanceM(c.position, site) : 0 }));
  const nearest = Math.min(...ranked.map((c) => c.distance));
  const near = ranked.filter((c) => c.distance <= nearest + EQUALLY_NEAR_M);
  near.sort((a, b) => a.openJobs - b.openJobs || a.distance - b.distance || a.id.localeCompare(b.id));
  return near[0]!.id;
}

export class TechnicianDirectory {
  /** Per store (a restarted server brings a new one), per tenant. */
  private readonly views = new WeakMap<Store, Map<string, TenantView>>();

  /** Latest fix and open-job count of every known technician, read up to the store's newest commit. */
  async candidates(store: Store, tenantId: string): Promise<(Candidate & { recordedAt: string })[]> {
    const view = await this.refresh(store, tenantId);
    const open = new Map<string, number>();
    const busy = new Set<string>();
    for (const job of view.jobs.values()) {
      if (job.assigneeId && job.status && OPEN_JOB_STATUSES.has(job.status)) open.set(job.assigneeId, (open.get(job.assigneeId) ?? 0) + 1);
      if (job.assigneeId && job.status && BUSY_JOB_STATUSES.has(job.status)) busy.add(job.assigneeId);
    }
    return [...view.positions].map(([id, p]) => ({ id, position: { lat: p.lat, lng: p.lng }, recordedAt: p.recordedAt, openJobs: open.get(id) ?? 0, busy: busy.has(id) }));
  }

  private async refresh(store: Store, tenantId: string): Promise<TenantView> {
    let tenants = this.views.get(store);
    if (!tenants) {
      tenants = new Map();
      this.views.set(store, tenants);
    }
    let view = tenants.get(tenantId);
    if (!view) {
      view = { gpsSeq: 0, positions: new Map(), jobsSeq: 0, jobs: new Map() };
      tenants.set(tenantId, view);
    }
    const target = view;
    target.gpsSeq = await this.page(store, 'gps_points', tenantId, target.gpsSeq, (doc) => {
      if (doc['_deleted'] === true || doc['sourceType'] !== 'technician') return;
      const { sourceId, lat, lng, recordedAt } = doc as { sourceId: string; lat: number; lng: number; recordedAt: string };
      target.positions.set(sourceId, { lat, lng, recordedAt });
    });
    target.jobsSeq = await this.page(store, 'jobs', tenantId, target.jobsSeq, (doc) => {
      const id = String(doc['id']);
      if (doc['_deleted'] === true) {
        target.jobs.delete(id);
        return;
      }
      target.jobs.set(id, {
        ...(typeof doc['assigneeId'] === 'string' ? { assigneeId: doc['assigneeId'] } : {}),
        ...(typeof doc['status'] === 'string' ? { status: doc['status'] } : {}),
      });
    });
    return target;
  }

  private async page(store: Store, collection: string, tenantId: string, afterSeq: number, visit: (doc: Record<string, unknown>) => void): Promise<number> {
    let seq = afterSeq;
    for (;;) {
      const page = await store.pull({ collection, tenantId, afterSeq: seq, limit: PAGE });
      for (const stored of page.documents) visit(JSON.parse(stored.json) as Record<string, unknown>);
      seq = page.lastSeq;
      if (page.documents.length < PAGE) return seq;
    }
  }
}

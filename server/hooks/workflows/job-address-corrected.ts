/**
 * job-address-corrected: the office corrected the service address of a job the server left
 * unassigned (its address not found, the geocoder down, no technician known). The new address is
 * placed as ticket-created places an order's (`placementOf`: the same geocoder, retries and
 * breaker) and the job goes to the nearest, then least loaded, technician; an address still not
 * found keeps the job unassigned with the new reason.
 *
 * The office may also assign the job in the same change as the correction (an offline office's
 * two edits pushed as one state), or while this run waits on the geocoder. The job is then placed
 * all the same (its location is where the technician's map sends them, so the old address's must
 * not stay), but keeps the technician the office chose; an address that cannot be placed clears
 * the old location rather than keep a wrong place.
 *
 * Once per change (keyed by its commit): every run reads the job as it is now and writes only if
 * it still holds the address that run placed, so a re-run, or a run for an older correction
 * finishing after a newer one, changes nothing.
 */
import { deepEqual } from '../../../shared/merge/json.ts';
import type { Workflow } from '../types.ts';
import type { KeyedLock } from './support.ts';
import { compact, offsetDateTime, offsetMinutesOf, read, writeDoc } from './support.ts';
import { chooseTechnician, type TechnicianDirectory } from './technicians.ts';
import { placementOf, type TicketCreatedDeps } from './ticket-created.ts';

export type JobAddressCorrectedDeps = Pick<TicketCreatedDeps, 'technicians' | 'locks' | 'geocoder' | 'geocoderOf'> & { technicians: TechnicianDirectory; locks: KeyedLock };

/** Why a job with a placed (or unplaceable-but-not-refused) address still has nobody: no technician has ever sent a position. */
export const NO_TECHNICIAN_KNOWN = 'No technician is known to the server yet (none has sent a position from their phone), so nobody could be chosen. Assign a technician by hand once one has.';

export function jobAddressCorrectedWorkflow(deps: JobAddressCorrectedDeps): Workflow {
  return {
    name: 'job-address-corrected',
    description: 'Places a job again when the office corrects its service address, and, if it is still unassigned, assigns it to the nearest, then least loaded, technician (or says again why not).',
    trigger: {
      collection: 'jobs',
      // Whatever the new status: a correction that also assigns the job must be placed too.
      when: (change) => change.before !== undefined && !change.before._deleted && !change.after._deleted
        && change.actor.kind === 'device' && change.actor.role === 'office'
        && !deepEqual(change.before['serviceAddress'], change.after['serviceAddress']),
      // Per correction: a second correction of the same job is placed again.
      key: (change) => `${change.id}@${change.seq}`,
    },
    async run(ctx, payload) {
      const job = await read(ctx, 'jobs', payload.id);
      if (!job || job._deleted) return;
      const address = job.serviceAddress;
      // The corrected address, not the coordinates the job had: those were the old address's.
      const placement = await placementOf(ctx, { id: job.id, ...(address ? { serviceAddress: address } : {}) }, deps);
      await deps.locks.run(`assign:${ctx.tenantId}`, async () => {
        // Only a job still unassigned is given a technician; one the office assigned keeps theirs.
        const current = await read(ctx, 'jobs', job.id);
        const unassigned = current?.status === 'unassigned';
        const candidates = placement.unassignedReason || !unassigned ? [] : await deps.technicians.candidates(ctx.store, ctx.tenantId);
        const assigneeId = chooseTechnician(candidates, placement.location);
        const chosen = candidates.find((c) => c.id === assigneeId);
        ctx.log.info({ jobId: job.id, assigneeId, candidates: candidates.length, geocoded: placement.geocodedAs !== undefined, assignedMeanwhile: !unassigned },
          !unassigned ? 'corrected job (assigned by the office) placed again' : assigneeId ? 'corrected job assigned' : 'corrected job still unassigned');
        if (!unassigned && placement.unassignedReason) ctx.log.warn({ jobId: job.id, reason: placement.unassignedReason }, 'the corrected address of an assigned job could not be placed: its old location is cleared, the technician navigates by the address');
        const statusAt = offsetDateTime(ctx.now(), offsetMinutesOf(chosen?.recordedAt));
        await writeDoc(ctx, 'jobs', job.id, (current) => {
          // Corrected again (that change has its own run).
          if (!current || current._deleted || !deepEqual(current.serviceAddress, address)) return undefined;
          const { location: _location, geocodedAs: _geocodedAs, unassignedReason: _reason, ...rest } = current;
          // Assigned by the office (in the correction's change or meanwhile): placed, or the old
          // place cleared, and nothing else; the reason it waited is job-assigned-by-hand's to drop.
          if (current.status !== 'unassigned') return compact({ ...rest, ...(current.unassignedReason !== undefined ? { unassignedReason: current.unassignedReason } : {}), location: placement.location, geocodedAs: placement.geocodedAs });
          return compact({
            ...rest,
            location: placement.location, geocodedAs: placement.geocodedAs,
            ...(assigneeId
              ? { assigneeId, status: 'assigned' as const, statusAt }
              : { unassignedReason: placement.unassignedReason ?? NO_TECHNICIAN_KNOWN }),
          });
        });
      }, ctx.store);
    },
  };
}

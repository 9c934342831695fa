/**
 * job-assigned-by-hand: the office assigned a job the server had left unassigned; the reason it
 * waited (`unassignedReason`, server-owned, so the office cannot clear it) no longer holds, and
 * the server removes it. Idempotent: a job that has no reason, or is unassigned again, is left alone.
 */
import type { Workflow } from '../types.ts';
import { read, writeDoc } from './support.ts';

export function jobAssignedByHandWorkflow(): Workflow {
  return {
    name: 'job-assigned-by-hand',
    description: 'Removes the reason an unassigned job waited once the office assigns it to a technician by hand.',
    trigger: {
      collection: 'jobs',
      when: (change) => change.before !== undefined && !change.after._deleted
        && change.before['status'] === 'unassigned' && change.after['status'] !== 'unassigned'
        && typeof change.after['unassignedReason'] === 'string',
      key: (change) => `${change.id}@${change.seq}`,
    },
    async run(ctx, payload) {
      const job = await read(ctx, 'jobs', payload.id);
      if (!job || job.status === 'unassigned' || job.unassignedReason === undefined) return;
      await writeDoc(ctx, 'jobs', job.id, (current) => {
        if (!current || current._deleted || current.status === 'unassigned' || current.unassignedReason === undefined) return undefined;
        const { unassignedReason: _reason, ...rest } = current;
        return rest;
      });
    },
  };
}

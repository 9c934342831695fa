/**
 * job-progress: the ticket behind a field job follows the job. The office sees "in progress"
 * once the technician is on the way or on site, and "closed" when the job is completed, without
 * anyone closing it by hand; a job reopened sends the ticket back. A cancelled ticket is left
 * alone (someone decided that on purpose).
 *
 * Every run reads the job as it is now, so runs for quick successive changes can finish in any
 * order and still leave the ticket matching the job's latest status.
 */
import type { Job, Ticket } from '../../../shared/schemas/index.ts';
import type { Workflow } from '../types.ts';
import { read, writeDoc } from './support.ts';

const TICKET_STATUS_OF: Readonly<Partial<Record<Job['status'], Ticket['status']>>> = {
  unassigned: 'open',
  assigned: 'open',
  en_route: 'in_progress',
  on_site: 'in_progress',
  // Left to come back (a part to fetch): still in progress.
  left_site: 'in_progress',
  completed: 'closed',
  // `offline` says nothing about the work: the ticket keeps its status.
};

export function jobProgressWorkflow(): Workflow {
  return {
    name: 'job-progress',
    description: 'Keeps the ticket of a field job in step with the job: in progress while en route or on site, closed when the job is completed.',
    trigger: {
      collection: 'jobs',
      when: (change) => !change.after._deleted && typeof change.after['ticketId'] === 'string'
        && change.after['status'] !== (change.before?._deleted ? undefined : change.before?.['status']),
      // Per change, not per status: completed → reopened → completed again must close the ticket again.
      key: (change) => `${change.id}@${change.seq}`,
    },
    async run(ctx, payload) {
      const job = await read(ctx, 'jobs', payload.id);
      if (!job || job._deleted || !job.ticketId) return;
      const status = TICKET_STATUS_OF[job.status];
      if (!status) return;
      await writeDoc(ctx, 'tickets', job.ticketId, (ticket) => {
        if (!ticket || ticket._deleted || ticket.status === 'cancelled' || ticket.status === status) return undefined;
        return { ...ticket, status };
      });
    },
  };
}

/**
 * ticket-created: a new installation request becomes a job for the nearest available technician
 * (least loaded among those about as near), or an `unassigned` job when no technician is known.
 * Assignments in one tenant are decided one at a time, so two new tickets cannot both count a
 * technician as free.
 */
import type { Job } from '../../../shared/schemas/index.ts';
import { checklistLabels, type FieldServiceSettings, type JobKind } from '../../agencies/field-service-settings.ts';
import type { Workflow } from '../types.ts';
import type { KeyedLock } from './support.ts';
import { compact, jobIdFor, offsetDateTime, offsetMinutesOf, read, writeDoc, type Draft } from './support.ts';
import { chooseTechnician, type TechnicianDirectory } from './technicians.ts';

const NOTES_MAX = 5000;

export function ticketNotesFor(notes: string | undefined, deployment: Record<string, string> | undefined): string | undefined {
  const lines = Object.entries(deployment ?? {}).map(([key, value]) => `${key}: ${value}`);
  const parts = [notes?.trim() || undefined, lines.length > 0 ? `Deployment:\n${lines.join('\n')}` : undefined].filter(Boolean);
  return parts.length > 0 ? parts.join('\n\n').slice(0, NOTES_MAX) : undefined;
}

/** The agency's field-service settings (its job checklists), or undefined for the built-in ones. */
export type FieldServiceLookup = (tenantId: string) => Promise<FieldServiceSettings | undefined>;

/** The job's checklist: its type's item labels from the agency's data, each with a stable id and no result yet. */
export function checklistFor(settings: FieldServiceSettings | undefined, kind: JobKind): NonNullable<Job['checklist']> {
  return checklistLabels(settings, kind).map((label, i) => ({ id: `c${i + 1}`, label }));
}

export function ticketCreatedWorkflow(deps: { technicians: TechnicianDirectory; locks: KeyedLock; fieldServiceOf?: FieldServiceLookup }): Workflow {
  return {
    name: 'ticket-created',
    description: 'Creates the installation job of a new installation ticket, assigned to the nearest, then least loaded, technician.',
    trigger: {
      collection: 'tickets',
      when: (change) => !change.after._deleted && (!change.before || change.before._deleted) && change.after['type'] === 'installation_request',
      key: (change) => change.id,
    },
    async run(ctx, payload) {
      const ticket = await read(ctx, 'tickets', payload.id);
      if (!ticket || ticket.type !== 'installation_request') return;
      const id = jobIdFor(ctx.tenantId, ticket.id);
      const checklist = checklistFor(await deps.fieldServiceOf?.(ctx.tenantId), 'installation');
      await deps.locks.run(`assign:${ctx.tenantId}`, async () => {
        if (await ctx.getDocument('jobs', id)) return;
        const candidates = await deps.technicians.candidates(ctx.store, ctx.tenantId);
        const assigneeId = chooseTechnician(candidates, ticket.location);
        const chosen = candidates.find((c) => c.id === assigneeId);
        ctx.log.info({ ticketId: ticket.id, assigneeId, candidates: candidates.length }, assigneeId ? 'job assigned' : 'no technician known; job unassigned');
        const statusAt = offsetDateTime(ctx.now(), offsetMinutesOf(chosen?.recordedAt));
        await writeDoc(ctx, 'jobs', id, (current) => {
          if (current) return undefined;
          const job: Draft<'jobs'> = compact({
            id, tenantId: ctx.tenantId, kind: 'installation',
            status: assigneeId ? 'assigned' : 'unassigned', statusAt,
            ticketId: ticket.id, orderId: ticket.orderId, orderNumber: ticket.orderNumber,
            assigneeId, customer: ticket.customer, serviceAddress: ticket.serviceAddress, location: ticket.location,
            equipmentSerials: ticket.equipment?.map((item) => item.serial),
            ticketNotes: ticketNotesFor(ticket.notes, ticket.deployment as Record<string, string> | undefined),
            checklist,
            _deleted: false,
          });
          return job;
        });
      }, ctx.store);
    },
  };
}

/**
 * ticket-created: a new installation request becomes a job for the nearest available technician
 * (least loaded among those about as near), or an `unassigned` job when no technician is known.
 * Assignments in one tenant are decided one at a time, so two new tickets cannot both count a
 * technician as free.
 */
import type { Job, Ticket } from '../../../shared/schemas/index.ts';
import type { GeocoderTarget } from '../../maps/geocoder.ts';
import type { AddressGeocoder } from '../../integrations/geocoding.ts';
import { IntegrationCallError } from '../../integrations/resilient-call.ts';
import type { EffectContext } from '../types.ts';
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

/** The agency's geocoder (its map settings over the server's), or undefined when it has none. */
export type GeocoderLookup = (tenantId: string) => Promise<GeocoderTarget | undefined>;

/**
 * How many times the hook runs before a geocoder that cannot be reached is given up on (each run
 * already retries within itself, and the runner waits longer before each run): the job is then
 * made unassigned, with the reason, rather than not at all.
 */
export const GEOCODE_RUNS = 3;

export interface TicketCreatedDeps {
  technicians: TechnicianDirectory;
  locks: KeyedLock;
  fieldServiceOf?: FieldServiceLookup;
  /** With both, a ticket without coordinates is placed by its service address (docs/protocol.md §32). */
  geocoder?: AddressGeocoder;
  geocoderOf?: GeocoderLookup;
}

export type Placement = { location?: { lat: number; lng: number }; geocodedAs?: string; unassignedReason?: string };

/** What a job is placed by: the order's coordinates when it had them, else its service address. */
export interface Site { id: string; location?: { lat: number; lng: number }; serviceAddress?: Ticket['serviceAddress'] }

/** The address as one line for the geocoder: street, city, state and ZIP as the order gave them (no apartment: geocoders do not know them). */
export function addressLine(address: NonNullable<Ticket['serviceAddress']>): string {
  return [address.street, address.city, [address.state, address.zip].filter(Boolean).join(' ')].map((part) => part?.trim()).filter(Boolean).join(', ');
}

/**
 * Where the job is: the ticket's coordinates; else, when the agency has a geocoder, its service
 * address geocoded; else nowhere (the least loaded technician takes it, as before geocoding). An
 * address the geocoder cannot place leaves the job unassigned, with the reason for the office:
 * sending someone to the least loaded technician's queue for a place nobody found helps no one.
 */
export async function placementOf(ctx: EffectContext, site: Site, deps: Pick<TicketCreatedDeps, 'geocoder' | 'geocoderOf'>): Promise<Placement> {
  if (site.location) return { location: site.location };
  const street = site.serviceAddress?.street?.trim();
  if (!street || !deps.geocoder || !deps.geocoderOf) return {};
  const target = await deps.geocoderOf(ctx.tenantId);
  if (!target) return {};
  const line = addressLine(site.serviceAddress!);
  try {
    const hit = await deps.geocoder.locate(target, line);
    if (hit) return { location: { lat: hit.lat, lng: hit.lng }, geocodedAs: hit.label.slice(0, 500) };
    return { unassignedReason: `The geocoder found no place for the service address "${line}", so no technician near it could be chosen. Correct the address with the customer, or assign a technician by hand.`.slice(0, 500) };
  } catch (error) {
    if (!(error instanceof IntegrationCallError)) throw error;
    // Down or timing out: the runner runs this again later, a few times; then the job is made anyway.
    if (error.reason !== 'permanent' && ctx.entry.attempts + 1 < GEOCODE_RUNS) throw error;
    ctx.log.warn({ err: error, siteId: site.id }, 'service address could not be geocoded; job left unassigned');
    return { unassignedReason: `The service address "${line}" could not be placed on the map (${error.message}), so no technician near it could be chosen. Assign a technician by hand.`.slice(0, 500) };
  }
}

export function ticketCreatedWorkflow(deps: TicketCreatedDeps): Workflow {
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
      if (await ctx.getDocument('jobs', id)) return;
      // Outside the tenant's assignment lock: a slow geocoder must not hold up other tickets' assignments.
      const placement = await placementOf(ctx, { id: ticket.id, ...(ticket.location ? { location: ticket.location } : {}), ...(ticket.serviceAddress ? { serviceAddress: ticket.serviceAddress } : {}) }, deps);
      await deps.locks.run(`assign:${ctx.tenantId}`, async () => {
        if (await ctx.getDocument('jobs', id)) return;
        const candidates = placement.unassignedReason ? [] : await deps.technicians.candidates(ctx.store, ctx.tenantId);
        const assigneeId = chooseTechnician(candidates, placement.location);
        const chosen = candidates.find((c) => c.id === assigneeId);
        ctx.log.info({ ticketId: ticket.id, assigneeId, candidates: candidates.length, geocoded: placement.geocodedAs !== undefined }, assigneeId ? 'job assigned' : placement.unassignedReason ?? 'no technician known; job unassigned');
        const statusAt = offsetDateTime(ctx.now(), offsetMinutesOf(chosen?.recordedAt));
        await writeDoc(ctx, 'jobs', id, (current) => {
          if (current) return undefined;
          const job: Draft<'jobs'> = compact({
            id, tenantId: ctx.tenantId, kind: 'installation',
            status: assigneeId ? 'assigned' : 'unassigned', statusAt,
            ticketId: ticket.id, orderId: ticket.orderId, orderNumber: ticket.orderNumber,
            assigneeId, customer: ticket.customer, serviceAddress: ticket.serviceAddress,
            location: placement.location, geocodedAs: placement.geocodedAs,
            unassignedReason: assigneeId ? undefined : placement.unassignedReason,
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

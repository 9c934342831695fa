/**
 * Field-service office: the sales orders of the agency (entered here by hand, or arrived from the
 * order system, docs/protocol.md §28), completing an order (the server's hooks make its ticket and
 * the job for the nearest available technician), and where each order's job stands.
 */
import { useEffect, useState } from 'preact/hooks';
import { FIELD_SERVICE, pathOf } from '../../../shared/protocol/index.ts';
import type { Job, Order, Ticket } from '../../../shared/schemas/index.ts';
import { ActionError, refusalText, useAction, WriteRefusedError } from '../../ui/action.tsx';
import { boot } from '../../ui/boot.tsx';
import { AppShell, Badge, go, markReady, route } from '../../ui/components.tsx';
import { useQuery, write } from '../../ui/db.ts';
import { deviceIds } from '../../ui/ids.ts';
import { recordField, type FieldConstraints } from '../../ui/record-field.ts';
import type { Session } from '../../session/identity.ts';
import { getAccessToken } from '../../session/session.ts';
import type { DocBadge } from '../../worker/api.ts';
import { clockOf, offsetDateTime } from '../../ui/time.ts';

const ORDER_STATUS_TEXT: Record<string, string> = { open: 'Open', completed: 'Completed (job made)', closed: 'Closed (job done)', cancelled: 'Cancelled' };
const JOB_STATUS_TEXT: Record<string, string> = {
  unassigned: 'Unassigned', assigned: 'Assigned', en_route: 'En route', on_site: 'On site', left_site: 'Left site', completed: 'Completed', offline: 'Offline',
};
const PRIORITIES = [['low', 'Low'], ['normal', 'Normal'], ['high', 'High'], ['urgent', 'Urgent']] as const;
const STATUS_ORDER: Record<string, number> = { open: 0, completed: 1, closed: 2, cancelled: 3 };
const PRIORITY_ORDER: Record<string, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

function addressText(a: Order['serviceAddress']): string {
  return [a?.street, a?.apartment, a?.city, a?.state, a?.zip].filter(Boolean).join(', ') || '—';
}

// ---- orders ---------------------------------------------------------------------------------------
function Orders() {
  const orders = useQuery<Order>('orders', {});
  const tickets = useQuery<Ticket>('tickets', {});
  const jobs = useQuery<Job>('jobs', {});
  const complete = useAction();
  const technicians = useTechnicians(jobs?.some((j) => j.doc.status === 'unassigned') ?? false);
  if (!orders) return <p>Loading…</p>;
  markReady();
  const sorted = [...orders].sort((a, b) => (STATUS_ORDER[a.doc.status] ?? 9) - (STATUS_ORDER[b.doc.status] ?? 9)
    || (PRIORITY_ORDER[a.doc.priority ?? 'normal'] ?? 9) - (PRIORITY_ORDER[b.doc.priority ?? 'normal'] ?? 9)
    || a.doc.orderNumber.localeCompare(b.doc.orderNumber));
  const jobOf = (orderId: string) => jobs?.find((j) => j.doc.orderId === orderId);
  const ticketOf = (orderId: string) => tickets?.find((t) => t.doc.orderId === orderId)?.doc;
  return (
    <section aria-labelledby="orders-title">
      <div class="row" style="justify-content:space-between">
        <h2 id="orders-title">Orders</h2>
        <button class="primary" data-testid="new-order" onClick={() => go('new')}>New order</button>
      </div>
      {sorted.length === 0 && <p class="empty">No orders yet. Enter one with "New order", or connect the order system (docs/protocol.md §28).</p>}
      <table data-testid="order-table">
        <thead><tr><th>Order</th><th>Customer</th><th>Service address</th><th>Priority</th><th>Status</th><th>Ticket</th><th>Job</th><th /></tr></thead>
        <tbody>
          {sorted.map(({ doc: order, badge }) => {
            const jobView = jobOf(order.id);
            const job = jobView?.doc;
            const ticket = ticketOf(order.id);
            return (
              <tr key={order.id} data-testid="order-row" data-id={order.id} data-status={order.status}>
                <td><strong>{order.orderNumber}</strong><div class="meta">{order.source === 'order-system' ? 'from the order system' : 'entered in the office'}</div><Badge badge={badge} /></td>
                <td>{order.customer?.name ?? '—'}{order.customer?.phone ? <div class="meta">{order.customer.phone}</div> : null}</td>
                <td>{addressText(order.serviceAddress)}</td>
                <td>{order.priority ?? 'normal'}</td>
                <td data-testid="order-status">{ORDER_STATUS_TEXT[order.status] ?? order.status}</td>
                <td data-testid="order-ticket">{ticket ? ticket.status : '—'}</td>
                <td data-testid="order-job">{job ? <JobSummary job={job} /> : '—'}
                  {job && jobView && job.status === 'unassigned' && <UnassignedJob job={job} badge={jobView.badge} technicians={technicians} />}
                  {/* A refused assignment or correction of a job that is no longer unassigned (assigned meanwhile) is still said at the job. */}
                  {job && jobView && job.status !== 'unassigned' && jobView.badge.state === 'rejected' && <div data-testid="job-refused"><Badge badge={jobView.badge} /></div>}</td>
                <td>
                  {order.status === 'open' && (
                    <button class="primary" data-testid="complete-order" disabled={complete.busy}
                      {...recordField({ collection: 'orders', docId: order.id, path: 'status' }, 'action', { value: 'completed' })}
                      onClick={() => void complete.run(() => write.mutate('orders', order.id, [{ op: 'set', path: ['status'], value: 'completed' }]), {}, order.id)}>
                      Complete order
                    </button>
                  )}
                  <ActionError action={complete} at={order.id} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="meta">Completing an order makes its installation ticket and a job for the nearest available technician (on the server, also when this device is offline now: once it syncs).</p>
    </section>
  );
}

/** Where the order's job stands, as the technician records it: status, checklist, parts with serials, time on site, a reopening. */
function JobSummary({ job }: { job: Job }) {
  const checked = (job.checklist ?? []).filter((c) => c.result !== undefined).length;
  const visits = job.visits ?? [];
  return (
    <>
      {JOB_STATUS_TEXT[job.status] ?? job.status}{job.assigneeId ? ` · ${job.assigneeId}` : ''}{job.statusAt ? ` since ${clockOf(job.statusAt)}` : ''}
      {job.status === 'unassigned' && job.unassignedReason && <div class="meta warn" role="status" data-testid="order-job-unassigned">{job.unassignedReason}</div>}
      {job.geocodedAs && <div class="meta" data-testid="order-job-geocoded">placed by address: {job.geocodedAs}</div>}
      {(job.checklist ?? []).length > 0 && <div class="meta">checklist {checked}/{job.checklist!.length}</div>}
      {(job.parts ?? []).length > 0 && <div class="meta" data-testid="order-job-parts">parts: {job.parts!.map((p) => `${p.quantity ?? 1} × ${p.name ?? 'part'}${p.serial ? ` (${p.serial})` : ''}`).join('; ')}</div>}
      {visits.length > 0 && <div class="meta">on site {visits.map((v) => `${clockOf(v.arrivedAt)}–${v.departedAt ? clockOf(v.departedAt) : 'now'}`).join(', ')}</div>}
      {job.reopenReason && <div class="meta">reopened: {job.reopenReason}</div>}
    </>
  );
}

// ---- unassigned jobs --------------------------------------------------------------------------------
interface Technician { id: string; lastFixAt: string; openJobs: number }
type TechnicianList = { technicians: Technician[] } | { problem: string } | undefined;

/**
 * The technicians the office may assign a job to (GET FIELD_SERVICE.technicians: those the server
 * knows by their phones' positions), read while some job waits unassigned, and again each minute.
 */
function useTechnicians(wanted: boolean): TechnicianList {
  const [list, setList] = useState<TechnicianList>();
  useEffect(() => {
    if (!wanted) return undefined;
    let stopped = false;
    const load = async () => {
      try {
        const token = await getAccessToken();
        const response = await fetch(pathOf(FIELD_SERVICE.technicians), { headers: { authorization: `Bearer ${token}` } });
        if (!response.ok) throw new Error(`the server answered ${response.status}`);
        const body = await response.json() as { technicians: Technician[] };
        if (!stopped) setList({ technicians: body.technicians });
      } catch (error) {
        if (!stopped) setList({ problem: `The list of technicians could not be read (${error instanceof Error ? error.message : String(error)}); it is read again in a minute, or when you reload.` });
      }
    };
    void load();
    const timer = setInterval(() => void load(), 60_000);
    return () => { stopped = true; clearInterval(timer); };
  }, [wanted]);
  return list;
}

const ADDRESS_PARTS = [['street', 'Street'], ['city', 'City'], ['state', 'State'], ['zip', 'ZIP']] as const;
type AddressForm = Record<(typeof ADDRESS_PARTS)[number][0], string>;

/** What is wrong with a corrected address, by field (shown at the field). */
export function addressProblems(form: AddressForm): Partial<Record<keyof AddressForm, string>> {
  const out: Partial<Record<keyof AddressForm, string>> = {};
  if (!form.street.trim()) out.street = 'Give the street of the service address.';
  for (const key of ['street', 'city'] as const) {
    const length = form[key].trim().length;
    if (length > 200) out[key] = `At most 200 characters; this has ${length}. Shorten it (nothing was cut).`;
  }
  if (form.state.trim() && !STATE.test(form.state.trim())) out.state = 'The state as its two-letter abbreviation (CT, PA).';
  if (form.zip.trim() && !ZIP.test(form.zip.trim())) out.zip = 'A ZIP code is 5 digits, or ZIP+4 (19104-1234).';
  return out;
}

/**
 * A job the server could not assign: the office assigns a technician by hand, or corrects the
 * address and the server places the job again (docs/protocol.md §32). The server's refusal of
 * either is shown here, where the office acted.
 */
function UnassignedJob({ job, badge, technicians }: { job: Job; badge: DocBadge; technicians: TechnicianList }) {
  const [assignee, setAssignee] = useState('');
  const [assigneeProblem, setAssigneeProblem] = useState<string>();
  const [address, setAddress] = useState<AddressForm>({
    street: job.serviceAddress?.street ?? '', city: job.serviceAddress?.city ?? '', state: job.serviceAddress?.state ?? '', zip: job.serviceAddress?.zip ?? '',
  });
  const [problems, setProblems] = useState<Partial<Record<keyof AddressForm, string>>>({});
  const assign = useAction();
  const correct = useAction();
  const key = job.id;
  const assignNow = async () => {
    if (!assignee) {
      setAssigneeProblem('Choose the technician to assign the job to.');
      document.getElementById(`ja-${key}-assignee`)?.focus();
      return;
    }
    setAssigneeProblem(undefined);
    await assign.run(() => write.mutate('jobs', job.id, [
      { op: 'set', path: ['assigneeId'], value: assignee },
      { op: 'set', path: ['status'], value: 'assigned' },
      { op: 'set', path: ['statusAt'], value: offsetDateTime() },
    ]));
  };
  const correctNow = async () => {
    const found = addressProblems(address);
    setProblems(found);
    const first = ADDRESS_PARTS.find(([k]) => found[k]);
    if (first) {
      document.getElementById(`ja-${key}-${first[0]}`)?.focus();
      return;
    }
    const parts = Object.fromEntries(ADDRESS_PARTS.map(([k]) => [k, k === 'state' ? address[k].trim().toUpperCase() : address[k].trim()]).filter(([, v]) => v));
    // The apartment stays as the order gave it: geocoders do not use it, the technician does.
    const serviceAddress = { ...(job.serviceAddress?.apartment ? { apartment: job.serviceAddress.apartment } : {}), ...parts };
    await correct.run(() => write.mutate('jobs', job.id, [{ op: 'set', path: ['serviceAddress'], value: serviceAddress }]));
  };
  const list = technicians && 'technicians' in technicians ? technicians.technicians : [];
  return (
    <div class="card" data-testid="unassigned-job" style="margin-top:8px">
      {badge.state === 'rejected' && <div class="hint bad" role="alert" data-testid="unassigned-job-refused">{refusalText(badge.reason, badge.code)}</div>}
      {badge.state === 'pending' && <div class="meta" data-testid="unassigned-job-pending">Saved on this device; sent to the server when there is a connection.</div>}
      <div class="field"><label for={`ja-${key}-assignee`}>Technician to assign</label>
        <select id={`ja-${key}-assignee`} data-testid="job-assignee" value={assignee}
          onChange={(e) => { setAssignee((e.currentTarget as HTMLSelectElement).value); setAssigneeProblem(undefined); }}
          aria-invalid={assigneeProblem ? true : undefined} aria-describedby={assigneeProblem ? `ja-${key}-assignee-problem` : undefined}
          {...recordField({ collection: 'jobs', docId: job.id, path: 'assigneeId' }, 'select', { required: true })}>
          <option value="">{list.length === 0 ? 'No technician known yet' : 'Choose a technician'}</option>
          {list.map((t) => <option key={t.id} value={t.id}>{t.id} ({t.openJobs} open job{t.openJobs === 1 ? '' : 's'}; phone last reported {clockOf(t.lastFixAt)})</option>)}
        </select>
        {assigneeProblem && <div class="hint bad" id={`ja-${key}-assignee-problem`} role="alert" data-testid="job-assignee-problem">{assigneeProblem}</div>}
        {technicians && 'problem' in technicians && <div class="hint bad" role="status" data-testid="technicians-problem">{technicians.problem}</div>}
      </div>
      <button class="primary" type="button" data-testid="assign-job" disabled={assign.busy}
        {...recordField({ collection: 'jobs', docId: job.id, path: 'status' }, 'action', { value: 'assigned' })}
        onClick={() => void assignNow()}>Assign</button>
      <ActionError action={assign} testId="assign-job-error" />
      <div class="grid" style="margin-top:8px">
        {ADDRESS_PARTS.map(([part, label]) => (
          <div class="field" key={part}><label for={`ja-${key}-${part}`}>{label}</label>
            <input id={`ja-${key}-${part}`} data-testid={`job-address-${part}`} value={address[part]}
              onInput={(e) => { setAddress({ ...address, [part]: (e.currentTarget as HTMLInputElement).value }); if (problems[part]) setProblems({ ...problems, [part]: undefined }); }}
              aria-invalid={problems[part] ? true : undefined} aria-describedby={problems[part] ? `ja-${key}-${part}-problem` : undefined}
              {...(part === 'zip' ? { inputMode: 'numeric' } : {})}
              {...recordField({ collection: 'jobs', docId: job.id, path: `serviceAddress.${part}` }, 'text', {
                ...(part === 'street' || part === 'city' ? { maxLength: 200 } : {}), ...(part === 'street' ? { required: true } : {}),
                ...(part === 'state' ? { pattern: STATE } : {}), ...(part === 'zip' ? { pattern: ZIP } : {}),
              })} />
            {problems[part] && <div class="hint bad" id={`ja-${key}-${part}-problem`} role="alert" data-testid="job-address-problem">{problems[part]}</div>}
          </div>
        ))}
      </div>
      <button type="button" data-testid="correct-address" disabled={correct.busy} onClick={() => void correctNow()}>Correct address</button>
      <ActionError action={correct} testId="correct-address-error" />
      <p class="meta">Assigning sends the job to that technician's phone. A corrected address is looked up again on the server, and the job goes to the technician nearest to it, or stays here with the reason.</p>
    </div>
  );
}

// ---- new order ----------------------------------------------------------------------------------
const NEW_ORDER_PATHS = {
  orderNumber: 'orderNumber', priority: 'priority', name: 'customer.name', phone: 'customer.phone', email: 'customer.email',
  street: 'serviceAddress.street', apartment: 'serviceAddress.apartment', city: 'serviceAddress.city', state: 'serviceAddress.state',
  zip: 'serviceAddress.zip', lat: 'location.lat', lng: 'location.lng',
} as const;
type NewOrderForm = Record<keyof typeof NEW_ORDER_PATHS, string>;
/** The longest text each typed field takes (the orders schema). */
const NEW_ORDER_MAX: Partial<Record<keyof NewOrderForm, number>> = { orderNumber: 50, name: 200, phone: 30, email: 200, street: 200, apartment: 200, city: 200 };
const ZIP = /^[0-9]{5}(-[0-9]{4})?$/;
const STATE = /^[A-Za-z]{2}$/;
const REQUIRED: readonly (keyof NewOrderForm)[] = ['orderNumber', 'name', 'street'];
const REQUIRED_TEXT: Partial<Record<keyof NewOrderForm, string>> = {
  orderNumber: 'Give the order number.', name: 'Give the customer\'s name.', street: 'Give the street of the service address.',
};

/** What is wrong with each field, by field (shown at the field). Over-long text is refused, never cut. */
export function newOrderProblems(form: NewOrderForm): Partial<Record<keyof NewOrderForm, string>> {
  const out: Partial<Record<keyof NewOrderForm, string>> = {};
  for (const key of REQUIRED) if (!form[key].trim()) out[key] = REQUIRED_TEXT[key];
  for (const [key, max] of Object.entries(NEW_ORDER_MAX) as [keyof NewOrderForm, number][]) {
    const length = form[key].trim().length;
    if (length > max) out[key] = `At most ${max} characters; this has ${length}. Shorten it (nothing was cut).`;
  }
  if (form.zip.trim() && !ZIP.test(form.zip.trim())) out.zip = 'A ZIP code is 5 digits, or ZIP+4 (19104-1234).';
  if (form.state.trim() && !STATE.test(form.state.trim())) out.state = 'The state as its two-letter abbreviation (CT, PA).';
  const coordinate = (key: 'lat' | 'lng', name: string, limit: number) => {
    const raw = form[key].trim();
    if (raw === '') return undefined;
    const value = Number(raw);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw) || !Number.isFinite(value)) out[key] = `${name} is a number of decimal degrees, e.g. ${key === 'lat' ? '41.3905' : '-73.4741'}.`;
    else if (Math.abs(value) > limit) out[key] = `${name} is between -${limit} and ${limit} degrees; ${raw} is outside.`;
    return value;
  };
  const lat = coordinate('lat', 'Latitude', 90);
  const lng = coordinate('lng', 'Longitude', 180);
  if (lat === undefined && lng !== undefined && !out.lng) out.lat = 'Give the latitude too (or clear the longitude).';
  if (lng === undefined && lat !== undefined && !out.lat) out.lng = 'Give the longitude too (or clear the latitude).';
  return out;
}

function NewOrder({ session }: { session: Session }) {
  const [form, setForm] = useState<NewOrderForm>({ orderNumber: '', priority: 'normal', name: '', phone: '', email: '', street: '', apartment: '', city: '', state: '', zip: '', lat: '', lng: '' });
  const [problems, setProblems] = useState<Partial<Record<keyof NewOrderForm, string>>>({});
  const create = useAction();
  const sameNumber = useQuery<Order>('orders', form.orderNumber.trim() ? { selector: { orderNumber: form.orderNumber.trim() }, limit: 1 } : undefined, [form.orderNumber.trim()]);
  const set = (key: keyof NewOrderForm) => (e: Event) => {
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
    if (problems[key]) setProblems({ ...problems, [key]: undefined });
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    create.clear();
    const found = newOrderProblems(form);
    setProblems(found);
    if (Object.values(found).some(Boolean)) {
      const first = (Object.keys(NEW_ORDER_PATHS) as (keyof NewOrderForm)[]).find((k) => found[k]);
      if (first) document.getElementById(`no-${first}`)?.focus();
      return;
    }
    const number = form.orderNumber.trim();
    const text = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
    const customer = text({ name: form.name, phone: form.phone, email: form.email });
    const serviceAddress = text({ street: form.street, apartment: form.apartment, city: form.city, state: form.state.toUpperCase(), zip: form.zip });
    const id = await deviceIds.orderIdFor(session.user.tenantId, number);
    const duplicate = `Order ${number} already exists; nothing was created. Use another number, or find ${number} in the list.`;
    const created = await create.run(async () => {
      if (sameNumber?.some((o) => o.doc.orderNumber === number)) throw new WriteRefusedError('duplicate', duplicate);
      await write.insert('orders', {
        id, tenantId: session.user.tenantId, orderNumber: number, status: 'open', source: 'office', priority: form.priority || 'normal',
        customer, serviceAddress,
        ...(form.lat.trim() ? { location: { lat: Number(form.lat), lng: Number(form.lng) } } : {}),
      });
    }, { duplicate });
    if (created) go('');
  };
  const declared = (key: keyof NewOrderForm, kind: 'text' | 'number' | 'select', constraints: FieldConstraints = {}) =>
    recordField({ collection: 'orders', path: NEW_ORDER_PATHS[key] }, kind, constraints);
  // No maxlength attribute: the browser would stop typing silently; the form says what is too long instead.
  const field = (key: keyof NewOrderForm, label: string, extra: Record<string, unknown> = {}, constraints: FieldConstraints = {}) => (
    <div class="field"><label for={`no-${key}`}>{label}</label><input id={`no-${key}`} name={key} value={form[key]} onInput={set(key)} {...extra}
      aria-invalid={problems[key] ? true : undefined} aria-describedby={problems[key] ? `no-${key}-problem` : undefined}
      {...declared(key, constraints.min !== undefined ? 'number' : 'text', { maxLength: NEW_ORDER_MAX[key], required: REQUIRED.includes(key), ...constraints })} />
      {problems[key] && <div class="hint bad" id={`no-${key}-problem`} role="alert" data-testid="new-order-problem">{problems[key]}</div>}</div>
  );
  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="no-title" style="max-width:720px" data-testid="new-order-form" noValidate>
      <h2 id="no-title">New order</h2>
      <div class="grid">
        {field('orderNumber', 'Order number', { required: true })}
        <div class="field"><label for="no-priority">Priority</label>
          <select id="no-priority" value={form.priority} onChange={set('priority')} {...declared('priority', 'select')}>
            {PRIORITIES.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select></div>
        {field('name', 'Customer', { required: true })}
        {field('phone', 'Customer phone', { inputMode: 'tel', type: 'tel' })}
        {field('email', 'Customer e-mail', { inputMode: 'email' })}
        {field('street', 'Street', { required: true })}
        {field('apartment', 'Suite / apartment')}
        {field('city', 'City')}
        {field('state', 'State', {}, { pattern: STATE })}
        {field('zip', 'ZIP', { inputMode: 'numeric' }, { pattern: ZIP })}
        {field('lat', 'Site latitude', { inputMode: 'decimal' }, { min: -90, max: 90 })}
        {field('lng', 'Site longitude', { inputMode: 'decimal' }, { min: -180, max: 180 })}
      </div>
      <p class="meta">With the site's coordinates the job goes to the nearest available technician. Without them the server looks the address up, when your agency has a geocoder, and uses the place it finds; an address it cannot find leaves the job unassigned, with the reason in the list. Without a geocoder, the job goes to the least busy technician.</p>
      <ActionError action={create} testId="new-order-error" />
      <div class="row"><button class="primary big" type="submit" disabled={create.busy}>Create order</button><button type="button" onClick={() => go('')}>Cancel</button></div>
    </form>
  );
}

function OfficeApp({ session }: { session: Session }) {
  const section = route.value.split('/')[0] ?? '';
  return (
    <AppShell title="Field-service office" nav={[{ path: '', label: 'Orders' }, { path: 'new', label: 'New order' }]}>
      {section === 'new' ? <NewOrder session={session} /> : <Orders />}
    </AppShell>
  );
}

void boot({ roles: ['office', 'admin'], title: 'Field-service office', render: (session) => <OfficeApp session={session} /> });

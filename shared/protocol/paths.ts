/**
 * Every path of the HTTP API, in one place: the server mounts its routes with these (`base` as
 * the plugin prefix, `route` as the Fastify pattern) and every device client builds its URLs from
 * them (`pathOf`). Nothing else in the tree spells a path under `/api/`; docs/protocol.md lists
 * the same routes for people.
 */

/** Where each capability's routes are mounted. */
export const SYNC_BASE_PATH = '/api/sync';
export const AUTH_BASE_PATH = '/api/auth';
export const ADMIN_BASE_PATH = '/api/admin';
export const EPCRS_BASE_PATH = '/api/epcrs';
export const SOCKET_BRIDGE_BASE_PATH = '/api/socket-bridge';
export const STATE_REPORTING_BASE_PATH = '/api/state-reporting';
export const INTEGRATIONS_BASE_PATH = '/api/integrations';
export const ATTACHMENTS_BASE_PATH = '/api/attachments';
export const DISPATCH_BASE_PATH = '/api/dispatch';
export const MAPS_BASE_PATH = '/api/maps';
export const AGENCY_BASE_PATH = '/api/agency';
export const FIELD_SERVICE_BASE_PATH = '/api/field-service';
/** Everything under here is the server's, never an app page (the service worker leaves it alone). */
export const API_PREFIX = '/api/';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'HEAD' | 'PATCH' | 'OPTIONS';

/** The `:name` parameters of a route pattern, e.g. `'/:collection/pull'` → `'collection'`. */
export type ParamsOf<Route extends string> =
  Route extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamsOf<`/${Rest}`>
    : Route extends `${string}:${infer Name}` ? Name
      : never;

export interface Endpoint<Route extends string = string> {
  readonly method: HttpMethod;
  /** The mount prefix (a Fastify plugin's `prefix`). */
  readonly base: string;
  /** The pattern below `base`, as Fastify takes it (`/:collection/pull`). */
  readonly route: Route;
}

function endpoint<Route extends string>(method: HttpMethod, base: string, route: Route): Endpoint<Route> {
  return Object.freeze({ method, base, route });
}

/** Sync: pull, push, scope checks and the durable list of refused writes (docs/protocol.md §7–10). */
export const SYNC = {
  pull: endpoint('GET', SYNC_BASE_PATH, '/:collection/pull'),
  push: endpoint('POST', SYNC_BASE_PATH, '/:collection/push'),
  outOfScope: endpoint('POST', SYNC_BASE_PATH, '/:collection/out-of-scope'),
  rejections: endpoint('GET', SYNC_BASE_PATH, '/rejections'),
} as const;

/** Sign-in (docs/protocol.md §3). */
export const AUTH = {
  login: endpoint('POST', AUTH_BASE_PATH, '/login'),
  refresh: endpoint('POST', AUTH_BASE_PATH, '/refresh'),
  logout: endpoint('POST', AUTH_BASE_PATH, '/logout'),
  me: endpoint('GET', AUTH_BASE_PATH, '/me'),
  /** The push-only, key-bound credential a device's service worker delivers its queue with (docs/protocol.md §3). */
  deviceCredential: endpoint('POST', AUTH_BASE_PATH, '/device-credential'),
} as const;

/** Administration (docs/protocol.md §19). */
export const ADMIN = {
  users: endpoint('GET', ADMIN_BASE_PATH, '/users'),
  createUser: endpoint('POST', ADMIN_BASE_PATH, '/users'),
  revokeUser: endpoint('POST', ADMIN_BASE_PATH, '/users/:id/revoke'),
  enableUser: endpoint('POST', ADMIN_BASE_PATH, '/users/:id/enable'),
  devices: endpoint('GET', ADMIN_BASE_PATH, '/devices'),
  revokeDevice: endpoint('POST', ADMIN_BASE_PATH, '/devices/:id/revoke'),
  enableDevice: endpoint('POST', ADMIN_BASE_PATH, '/devices/:id/enable'),
  audit: endpoint('GET', ADMIN_BASE_PATH, '/audit'),
  deadLetters: endpoint('GET', ADMIN_BASE_PATH, '/dead-letters'),
  retryDeadLetter: endpoint('POST', ADMIN_BASE_PATH, '/dead-letters/:id/retry'),
  quarantine: endpoint('GET', ADMIN_BASE_PATH, '/quarantine'),
  /** The agency's settings: its NEMSIS identity and state submission endpoint (docs/protocol.md §19). */
  agency: endpoint('GET', ADMIN_BASE_PATH, '/agency'),
  putAgency: endpoint('PUT', ADMIN_BASE_PATH, '/agency'),
} as const;

/** The dispatch console's own reads (docs/protocol.md §26). */
export const DISPATCH = {
  /** The server's time (for the console's clock offset) and the agency's dispatch settings in force. */
  settings: endpoint('GET', DISPATCH_BASE_PATH, '/settings'),
} as const;

/** The field-service office's own reads (docs/protocol.md §32). */
export const FIELD_SERVICE = {
  /** The agency's technicians the server knows (by their phones' position fixes), to assign a job by hand. */
  technicians: endpoint('GET', FIELD_SERVICE_BASE_PATH, '/technicians'),
} as const;

/** What an agency sends its state: the DEMDataSet, batches of EMSDataSet exports, submissions (docs/protocol.md §24). */
export const STATE_REPORTING = {
  /** The agency's NEMSIS DEMDataSet (agency, contacts, configuration, personnel, vehicles, facilities). */
  demDataSet: endpoint('GET', STATE_REPORTING_BASE_PATH, '/dem.xml'),
  /** The locked reports of a period as one EMSDataSet file (`?from=&to=`). */
  emsBatch: endpoint('GET', STATE_REPORTING_BASE_PATH, '/ems.xml'),
  /** Submit the locked reports of a period to the state's NEMSIS web service. */
  submit: endpoint('POST', STATE_REPORTING_BASE_PATH, '/submissions'),
  /** The submission status of the locked reports of a period. */
  submissions: endpoint('GET', STATE_REPORTING_BASE_PATH, '/submissions'),
} as const;

/** Inbound integrations: other systems of an agency sending events, signed with the agency's key (docs/protocol.md §28). */
export const INTEGRATIONS = {
  /** The order system's `order.completed` event, HMAC-SHA256 signed (`x-fieldsync-timestamp`, `x-fieldsync-signature`). */
  orderEvent: endpoint('POST', INTEGRATIONS_BASE_PATH, '/:agency/order-events'),
} as const;

/**
 * Maps (docs/protocol.md §27): what the apps' map shows (tiles, offline area), the agency's own
 * tile archive (PMTiles, HTTP range requests), and the geocoder and router the server calls for them.
 */
export const MAPS = {
  /** The map the caller's agency configured: tile source, offline area, whether addresses and routes are available. */
  config: endpoint('GET', MAPS_BASE_PATH, '/config'),
  /** The agency's tile archive (a PMTiles file), read with `Range: bytes=…` (206). */
  archive: endpoint('GET', MAPS_BASE_PATH, '/archive.pmtiles'),
  /** The byte ranges of the archive a device keeps for the agency's offline area, with their size. */
  offlinePlan: endpoint('GET', MAPS_BASE_PATH, '/offline-plan'),
  /** Address search (`?q=`), through the agency's geocoder. */
  geocode: endpoint('GET', MAPS_BASE_PATH, '/geocode'),
  /** Reverse lookup (`?lat=&lng=`): the address at a point. */
  reverse: endpoint('GET', MAPS_BASE_PATH, '/reverse'),
  /** A driving route (`?from=lat,lng&to=lat,lng`) through the agency's router (OSRM-compatible). */
  route: endpoint('GET', MAPS_BASE_PATH, '/route'),
} as const;

/** The NEMSIS export of a finalized report (docs/protocol.md §20). */
export const EPCRS = {
  nemsisXml: endpoint('GET', EPCRS_BASE_PATH, '/:id/nemsis.xml'),
  /** The export check made at finalize (XSD and Schematron results). */
  nemsisCheck: endpoint('GET', EPCRS_BASE_PATH, '/:id/nemsis-check'),
  /** The national Schematron compiled for SaxonJS (SEF), for the crew app's check before sending (docs/protocol.md §31). */
  nemsisRules: endpoint('GET', EPCRS_BASE_PATH, '/nemsis-rules.sef.json'),
  /** A NEMSIS 3.5.1 EMSDataSet file (mutual aid, a state feed) brought in as reports. */
  nemsisImport: endpoint('POST', EPCRS_BASE_PATH, '/nemsis-import'),
  /** The hospital's outcome of the patient (eOutcome), entered by an admin. */
  outcome: endpoint('PUT', EPCRS_BASE_PATH, '/:id/outcome'),
} as const;

/**
 * Signatures and photos (docs/protocol.md "Attachments"): resumable uploads by tus 1.0 and the
 * read of stored bytes. The upload routes take a user's access token or the service worker's
 * push-only device credential with a DPoP proof; the read takes an access token only.
 */
export const ATTACHMENTS = {
  /** tus creation: `Upload-Length`, `Upload-Metadata` (sha256, contentType, collection, docId) → 201 + `Location`. */
  createUpload: endpoint('POST', ATTACHMENTS_BASE_PATH, '/uploads'),
  /** tus: how many bytes of the upload the server has (`Upload-Offset`). */
  uploadOffset: endpoint('HEAD', ATTACHMENTS_BASE_PATH, '/uploads/:uploadId'),
  /** tus: the next bytes, from `Upload-Offset` (`Content-Type: application/offset+octet-stream`). */
  appendUpload: endpoint('PATCH', ATTACHMENTS_BASE_PATH, '/uploads/:uploadId'),
  /** tus discovery: the version, extensions and size limit the server supports. */
  uploadOptions: endpoint('OPTIONS', ATTACHMENTS_BASE_PATH, '/uploads'),
  /** The stored bytes of an attachment (or its thumbnail) the document lists. */
  read: endpoint('GET', ATTACHMENTS_BASE_PATH, '/:collection/:docId/:sha256'),
} as const;

/** The tus protocol's own headers and values (tus.io/protocols/resumable-upload, 1.0.0). */
export const TUS_VERSION = '1.0.0';
export const TUS_HEADERS = {
  resumable: 'Tus-Resumable',
  version: 'Tus-Version',
  extension: 'Tus-Extension',
  maxSize: 'Tus-Max-Size',
  uploadLength: 'Upload-Length',
  uploadOffset: 'Upload-Offset',
  uploadMetadata: 'Upload-Metadata',
  uploadExpires: 'Upload-Expires',
} as const;
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream';
/** The `Upload-Metadata` keys an attachment upload must carry (values base64, as tus wants). */
export const ATTACHMENT_UPLOAD_METADATA = ['sha256', 'contentType', 'collection', 'docId'] as const;

/** What a dispatcher may send CAD through the server, by path below the bridge's base. */
export const SOCKET_BRIDGE_SENDS = ['assignment', 'unit-location', 'unit-status', 'incident-status', 'incident-timestamp', 'transport-completed'] as const;
export type SocketBridgeSend = (typeof SOCKET_BRIDGE_SENDS)[number];

/** The CAD bridge's REST side (docs/protocol.md §18). */
export const SOCKET_BRIDGE = {
  health: endpoint('GET', SOCKET_BRIDGE_BASE_PATH, '/health'),
  reconnect: endpoint('POST', SOCKET_BRIDGE_BASE_PATH, '/reconnect'),
  send: (what: SocketBridgeSend) => endpoint('POST', SOCKET_BRIDGE_BASE_PATH, `/${what}`),
} as const;

/** The full pattern of an endpoint, e.g. `/api/sync/:collection/push` (for messages and docs). */
export function patternOf(e: Endpoint): string {
  return e.base + e.route;
}

/** The path of one call: every `:name` replaced by its (URL-encoded) value. */
export function pathOf<Route extends string>(e: Endpoint<Route>, ...[params]: ParamsOf<Route> extends never ? [] : [Record<ParamsOf<Route>, string | number>]): string {
  const values = (params ?? {}) as Record<string, string | number>;
  return e.base + e.route.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${patternOf(e)} needs a value for :${name}.`);
    return encodeURIComponent(String(value));
  });
}

/**
 * The parameters of a URL (absolute or a path, with or without a query) if it is a call of this
 * endpoint, else undefined: for code that sees requests go by (the worker's fetch inspection).
 */
export function matchPath<Route extends string>(e: Endpoint<Route>, url: string): Record<ParamsOf<Route>, string> | undefined {
  const names: string[] = [];
  const source = patternOf(e).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
    names.push(name);
    return '([^/?#]+)';
  });
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]+/i, '').replace(/[?#].*$/, '');
  const match = new RegExp(`^${source}$`).exec(path);
  if (!match) return undefined;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)])) as Record<ParamsOf<Route>, string>;
}

/** Query parameters of the sync routes. */
export const SCHEMA_VERSION_PARAM = 'schemaVersion';
export const SYNC_QUERY = {
  schemaVersion: SCHEMA_VERSION_PARAM,
  checkpoint: 'checkpoint',
  limit: 'limit',
  /** `conflicts=merge`: the server merges a conflicting row instead of answering with master (a queue replay). */
  conflicts: 'conflicts',
  since: 'since',
} as const;
export const CONFLICTS_MERGE = 'merge';

/** What every signed-in device of an agency may read of its settings: none of them secret (docs/protocol.md §29). */
export const AGENCY = {
  /** The agency's device settings: its favourites per NEMSIS vocabulary (first in the crew's pick-lists) and the photo size in force. */
  deviceSettings: endpoint('GET', AGENCY_BASE_PATH, '/device-settings'),
  /** The agency's billing settings (837P claims: NPI, taxonomy, payers, fee schedule): admin and biller (docs/protocol.md §19). */
  billingSettings: endpoint('GET', AGENCY_BASE_PATH, '/billing-settings'),
  putBillingSettings: endpoint('PUT', AGENCY_BASE_PATH, '/billing-settings'),
} as const;

import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { defaultSchematronCacheDir } from './nemsis/schematron-compile.ts';
import { DISPATCH_ACK_ALERT_MAX_SECONDS, DISPATCH_ACK_ALERT_MIN_SECONDS } from './agencies/dispatch-settings.ts';

/**
 * Everything the server can be told from the environment, read and checked in this one place.
 * A bad value stops start-up with a message naming the variable.
 */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  /** Deepest nesting of objects and arrays a JSON body may have (server/http/json-depth.ts). */
  jsonMaxDepth: number;
  /**
   * Slow clients: the whole request (headers and body) must arrive within `requestTimeoutMs`, its
   * headers within `headersTimeoutMs` (at most the former); a connection with no traffic at all is
   * closed after `connectionIdleTimeoutMs`, and one idle between requests after `keepAliveTimeoutMs`.
   * At most `maxConnections` connections are open at once (websockets included); more are dropped.
   */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  connectionIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** socket.io: messages one socket may send per window before it is told so and disconnected. */
  socketMessageLimit: number;
  socketMessageWindowMs: number;
  /** SQLite durability: FULL also survives power loss of the server after an acknowledged push. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /**
   * SQLite's commit window (server/store/group-commit.ts): while writes arrive more often than
   * this, a write that would commit alone waits up to COMMIT_WINDOW_MS for others to share its
   * commit and fsync, until COMMIT_WINDOW_GROUP writes are queued. 0 turns it off. Every write
   * is still answered only once it is committed and on disk.
   */
  commitWindowMs: number;
  commitWindowGroup: number;
  /**
   * Attachments (server/attachments/): the largest upload accepted (ATTACHMENT_MAX_BYTES) and how
   * long an incomplete upload is kept before it is deleted (ATTACHMENT_UPLOAD_EXPIRY_MS).
   */
  attachmentMaxBytes: number;
  attachmentUploadExpiryMs: number;
  /**
   * PostgreSQL: how long an upload's finish waits for its claim (a finish slot, half the pool's
   * connections per process, and a connection) before its request is answered 423 with
   * Retry-After instead (ATTACHMENT_FINISH_WAIT_MS).
   */
  attachmentFinishWaitMs: number;
  /** STORE: where documents, outbox and audit live: embedded SQLite in DATA_DIR, or PostgreSQL at DATABASE_URL. */
  storeKind: 'sqlite' | 'postgres';
  /** PostgreSQL connection URL; required when STORE=postgres. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema for fieldsync's tables (created when missing). */
  databaseSchema: string;
  /**
   * Accept `Bearer dev:<tenant>:<role>:<device>[:<subject>]` tokens, which let anyone claim any
   * identity in any agency: off unless DEV_TOKENS=true or NODE_ENV=development (tests opt in).
   */
  devTokens: boolean;
  /** The field's CAD backend (socket.io); absent means the CAD bridge is off. */
  cadBackendUrl: string | undefined;
  cadBackendAuthToken: string | undefined;
  /** The agency whose incidents and units the CAD backend reports. */
  cadTenantId: string;
  /**
   * That agency's IANA time zone (CAD_TIME_ZONE, e.g. America/New_York): CAD's UTC times are
   * stored on its wall clock with its offset, as NEMSIS eTimes are read; unset: this machine's zone.
   */
  cadTimeZone: string | undefined;
  /**
   * ORDER_INTAKE_TOLERANCE_SECONDS: how far a signed order event's timestamp may be from this
   * server's clock, either way (the replay window of server/order-intake).
   */
  orderIntakeToleranceSeconds: number;
  /**
   * More agencies' CAD backends, one per agency (`CAD_BACKENDS`, a JSON array of
   * `{"tenantId","url","authToken"}`), beside the one of CAD_BACKEND_URL. Each CAD hears of its
   * own agency only.
   */
  cadBackends: readonly CadBackendConfig[];
  /**
   * A unit's GPS positions wait this long in CAD's queue (ms), and of the ones that waited only
   * the unit's newest is sent: CAD hears at most one position per unit per window, never an older
   * one after a newer. Statuses and incident events are never coalesced. 0: every position.
   */
  cadGpsCoalesceMs: number;
  /** Dispatch's live feed sends a unit's position at most this often (every point is still stored). */
  liveGpsIntervalMs: number;
  /**
   * How long a dispatched call may wait for its unit's acknowledgement before the dispatch console
   * alerts (colour and sound), for an agency whose settings do not say (`dispatch.unacknowledgedAlertSeconds`).
   */
  dispatchAckAlertSeconds: number;
  /**
   * How long a process's claim on an outbox entry (and a hook's per-report lease) lasts: longer
   * than any hook takes; after a process dies its claims are taken by another after this long.
   */
  outboxClaimLeaseMs: number;
  /**
   * A push body at least this long is also validated and serialised on a worker thread, beside
   * the event loop (server/replication/push-decoder.ts); 0 keeps all of it on the event loop.
   */
  pushWorkerMinBytes: number;
  /** Build the apps at start-up when dist/client is missing or stale (off for API-only processes). */
  buildApps: boolean;
  /** Create and submit the claim as soon as a transport report is locked. */
  autoClaimAfterFinalize: boolean;
  /** The NEMSIS 3.5 XSDs; exports are validated against them when the directory exists. */
  nemsisXsdDir: string | undefined;
  /**
   * Where the national Schematron, compiled from NEMSIS_DIR/schematron, is kept (one file per
   * version of the rules; compiling takes about a minute, once). Default: a folder in the OS temp directory.
   */
  schematronCacheDir: string;
  /** Hospital destination code → URL that takes pre-arrival notices (FHIR JSON). Empty: no notices sent. */
  hospitalEndpoints: Record<string, string>;
  /** Where claims are submitted; absent means claims submission is not configured. */
  claimsEndpoint: string | undefined;
  /**
   * Hosts (host or host:port) an agency's admin may set as the state's NEMSIS web service
   * (agency settings, stateSubmission.endpoint); empty: any host. The server calls that URL, so a
   * multi-agency server limits it to the states' services.
   */
  stateEndpointHosts: string[];
  /** Outbound calls: how long one attempt may take before it is abandoned. */
  integrationTimeoutMs: number;
  /** Outbound calls: extra attempts within one call, before the hook runner's own (slower) retries. */
  integrationRetries: number;
  /** Outbound calls: first retry delay; grows exponentially with jitter up to `integrationBackoffMaxMs`. */
  integrationBackoffMs: number;
  integrationBackoffMaxMs: number;
  /** Consecutive failed attempts against one target that open its circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker refuses calls before it lets one trial call through. */
  breakerHalfOpenAfterMs: number;
  /**
   * HS256 key for access tokens (at least 32 characters). Required unless the server is a demo
   * (SEED_DEMO) or development (DEV_TOKENS) one; those, when it is unset, keep a key made on first
   * start in DATA_DIR/jwt-secret.
   */
  jwtSecret: string | undefined;
  /**
   * TRANSPORT_KEY_SECRET (at least 32 characters): what devices' transport keys are sealed with
   * in PostgreSQL (server/auth/identity-store-postgres.ts). Required with STORE=postgres unless the
   * server is a demo or development one (then one made on first start is kept in the database, in clear).
   * Every process gets the same one, and it must not change while sealed keys are in use.
   */
  transportKeySecret: string | undefined;
  /** Lifetime of access tokens (JWT). */
  accessTokenTtlSeconds: number;
  /** Lifetime of a refresh token; each refresh rotates it. */
  refreshTokenTtlSeconds: number;
  /** Browser origins allowed by CORS and the socket.io handshake; empty: no cross-origin browser access. */
  corsOrigins: string[];
  /**
   * The origin browsers reach this server at (`https://fieldsync.example.org`), which the socket.io
   * handshake accepts as same-origin; unset: the address the connection arrived at (direct use,
   * development). Never the Host header, which the client writes.
   */
  publicOrigin: string | undefined;
  /**
   * Which proxies' X-Forwarded-For is believed for the client address the per-address limits key
   * on: false (none: the TCP peer is the client), a number of hops, or addresses/CIDRs.
   */
  trustProxy: false | number | string[];
  /** Rate limits: one window for all of them. */
  rateLimitWindowMs: number;
  /** Sync requests per window per tenant and device. */
  syncRateLimit: number;
  /** Sign-in and refresh attempts per window per device id and client address. */
  loginRateLimit: number;
  /** Failed sign-ins per window per account and client address (a lockout of that pair only). */
  loginAccountRateLimit: number;
  /** Sign-in attempts per window per client address, whatever the account or device. */
  loginIpRateLimit: number;
  /** Password checks per window over all clients (scrypt costs CPU), except on a device the user signed in on before. */
  loginGlobalRateLimit: number;
  /** Bearer token for `/metrics` and `/ready`'s details; unset: `/metrics` is refused and `/ready` says only ready or not. */
  metricsToken: string | undefined;
  /**
   * `npm start` creates the demo agency (one user per role, published passwords) when it does not
   * exist. readConfig: on for a trial server (no JWT_SECRET, NODE_ENV not production) and in
   * development; SEED_DEMO says otherwise. A demo server may keep a signing key of its own in DATA_DIR.
   */
  seedDemo: boolean;
  /**
   * AUDIT_KEY: the audit chain's HMAC key (at least 32 characters), or AUDIT_KEY_FILE: a file
   * holding it, outside DATA_DIR. One is required unless the server is a demo or development one
   * (as JWT_SECRET); such a server without either uses a key made once outside DATA_DIR
   * (server/audit/key.ts).
   */
  auditKey: string | undefined;
  auditKeyFile: string | undefined;
  /** Where signed audit checkpoints are appended (JSON lines); unset: DATA_DIR/audit-checkpoints.jsonl (see `auditCheckpointFileOf`). */
  auditCheckpointFile: string | undefined;
  /** An HTTP(S) endpoint that also receives each checkpoint (POST, JSON): a copy out of reach of whoever holds this host. */
  auditCheckpointUrl: string | undefined;
  /** How often a checkpoint is written when the log grew (and always at shutdown). */
  auditCheckpointIntervalMs: number;
  /**
   * Maps: what an agency without map settings of its own gets (agency settings `map` override
   * each, server/agencies/map-settings.ts). MAP_TILE_ARCHIVE: a PMTiles file in DATA_DIR/tiles/;
   * MAP_STYLE_URL: a MapLibre style URL instead. Neither: the apps draw their grid map.
   */
  mapTileArchive: string | undefined;
  mapStyleUrl: string | undefined;
  /** GEOCODER_URL: a Nominatim- or Pelias-compatible service (GEOCODER_KIND), called by the server only; GEOCODER_API_KEY stays here. */
  geocoderUrl: string | undefined;
  geocoderKind: 'nominatim' | 'pelias';
  geocoderApiKey: string | undefined;
  /** ROUTER_URL: an OSRM-compatible routing service (`/route/v1/driving/…`), called by the server only. */
  routerUrl: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Outbound call tuning when the environment says nothing (a slice of SERVER_DEFAULTS, for the integrations). */
export const INTEGRATION_DEFAULTS: Readonly<Pick<ServerConfig,
  | 'hospitalEndpoints' | 'claimsEndpoint' | 'stateEndpointHosts' | 'integrationTimeoutMs' | 'integrationRetries'
  | 'integrationBackoffMs' | 'integrationBackoffMaxMs' | 'breakerThreshold' | 'breakerHalfOpenAfterMs'>> = {
  hospitalEndpoints: {},
  claimsEndpoint: undefined,
  stateEndpointHosts: [],
  integrationTimeoutMs: 5000,
  integrationRetries: 2,
  integrationBackoffMs: 250,
  integrationBackoffMaxMs: 5000,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 30_000,
};

/** Authentication and hardening settings when the environment says nothing (a slice of SERVER_DEFAULTS). */
export const AUTH_DEFAULTS: Readonly<Pick<ServerConfig,
  | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds' | 'corsOrigins' | 'publicOrigin' | 'trustProxy' | 'rateLimitWindowMs'
  | 'syncRateLimit' | 'loginRateLimit' | 'loginAccountRateLimit' | 'loginIpRateLimit' | 'loginGlobalRateLimit' | 'metricsToken'>> = {
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
  corsOrigins: [],
  publicOrigin: undefined,
  trustProxy: false,
  rateLimitWindowMs: 60_000,
  // Generous: a device syncing nine collections live, tests and benchmarks stay far below it.
  syncRateLimit: 20_000,
  loginRateLimit: 30,
  // A person mistyping gets ten tries a minute from where they are; a guesser elsewhere does not use them up.
  loginAccountRateLimit: 10,
  // A station's NAT with thirty tablets signing in at shift change stays below it.
  loginIpRateLimit: 60,
  // About 600 scrypt checks (0.3 s of CPU each) a minute: three cores' worth, so a spray from many
  // addresses cannot take the CPU every real sign-in needs.
  loginGlobalRateLimit: 600,
  metricsToken: undefined,
};

/**
 * Every setting's default, in this one place: `readConfig` falls back to it for a variable that
 * is not set, `buildServer` (resolveServerConfig) for an option that is not given. A default
 * written anywhere else is a second copy that drifts (test/server/config.test.ts looks for them).
 */
export const SERVER_DEFAULTS: Readonly<ServerConfig> = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  dataDir: './data',
  logLevel: 'info',
  bodyLimitBytes: 8 * 1024 * 1024,
  // The deepest document (an ePCR) nests 6 levels below the push body's 3; JSON.stringify and
  // every recursive walk overflowed the stack near 5,000 (issue 17).
  jsonMaxDepth: 64,
  // A push of a few hundred KB on one bar of signal fits in a minute; a client trickling bytes
  // (slowloris) holds a connection no longer.
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 20_000,
  // Above socket.io's ping interval + timeout (45 s), so a quiet long-polling client is not cut.
  connectionIdleTimeoutMs: 120_000,
  // Fastify's own default: longer than the usual load balancer idle timeout (60 s).
  keepAliveTimeoutMs: 72_000,
  maxConnections: 10_000,
  // A device sends a handful (subscribe on each connection); a flood is stopped after these.
  socketMessageLimit: 100,
  socketMessageWindowMs: 10_000,
  sqliteSynchronous: 'FULL',
  // 100 devices at a point a second each arrive 10 ms apart: three share a commit, each waiting
  // at most 20 ms (store-level CPU per one-point write about 750 -> 300 µs; the fleet's e2e p99
  // target is 50 ms).
  commitWindowMs: 20,
  commitWindowGroup: 3,
  // A phone photo compressed on the device is well under 5 MB; a 10 MB scan still fits.
  attachmentMaxBytes: 20 * 1024 * 1024,
  // A device offline through a long shift still resumes its upload the next day.
  attachmentUploadExpiryMs: 24 * 3600_000,
  // Well inside a device's request deadline: a 423 costs one HEAD a second later.
  attachmentFinishWaitMs: 2_000,
  storeKind: 'sqlite',
  databaseUrl: undefined,
  databaseSchema: 'public',
  devTokens: false,
  cadBackendUrl: undefined,
  cadBackendAuthToken: undefined,
  cadTenantId: 'demo',
  cadTimeZone: undefined,
  // Stripe's and Slack's choice: wide enough for clock drift and a retry, short enough that a captured request soon goes stale.
  orderIntakeToleranceSeconds: 300,
  cadBackends: [],
  cadGpsCoalesceMs: 1000,
  liveGpsIntervalMs: 250,
  dispatchAckAlertSeconds: 60,
  outboxClaimLeaseMs: 120_000,
  // Smaller bodies are not worth a round trip to the push worker (server/replication/push-decoder.ts).
  pushWorkerMinBytes: 32 * 1024,
  buildApps: true,
  autoClaimAfterFinalize: false,
  // A server built in code validates exports only when told where the XSDs are; `readConfig`
  // (the CLI) also looks for them beside the checkout, in NEMSIS_DEFAULT_DIR.
  nemsisXsdDir: undefined,
  schematronCacheDir: defaultSchematronCacheDir(),
  ...INTEGRATION_DEFAULTS,
  jwtSecret: undefined,
  transportKeySecret: undefined,
  ...AUTH_DEFAULTS,
  // readConfig: on for a trial server (no JWT_SECRET, NODE_ENV not production) and in development.
  seedDemo: true,
  auditKey: undefined,
  auditKeyFile: undefined,
  auditCheckpointFile: undefined,
  auditCheckpointUrl: undefined,
  auditCheckpointIntervalMs: 60_000,
  mapTileArchive: undefined,
  mapStyleUrl: undefined,
  geocoderUrl: undefined,
  geocoderKind: 'nominatim',
  geocoderApiKey: undefined,
  routerUrl: undefined,
});

/** The audit checkpoint file a server with these settings appends to (and `audit:verify` reads). */
export function auditCheckpointFileOf(config: Pick<ServerConfig, 'auditCheckpointFile' | 'dataDir'>): string {
  return config.auditCheckpointFile ?? path.join(config.dataDir, 'audit-checkpoints.jsonl');
}

/** Where `readConfig` looks for the NEMSIS XSDs when NEMSIS_DIR is not set (the material beside the checkout). */
export const NEMSIS_DEFAULT_DIR = '../shared/nemsis';

/** The settings a server runs with: the given ones over SERVER_DEFAULTS; a data directory is made absolute. */
export function resolveServerConfig(given: Partial<ServerConfig> = {}): ServerConfig {
  const resolved: Record<string, unknown> = { ...SERVER_DEFAULTS };
  for (const key of Object.keys(SERVER_DEFAULTS) as (keyof ServerConfig)[]) {
    // An option present but undefined means "not given", as `??` treated it.
    if (given[key] !== undefined) resolved[key] = given[key];
  }
  const config = resolved as unknown as ServerConfig;
  checkConnectionLimits(config);
  return { ...config, dataDir: path.resolve(config.dataDir) };
}

/** Node refuses a header timeout longer than the request timeout; say so in our words, at start-up. */
function checkConnectionLimits(config: Pick<ServerConfig, 'headersTimeoutMs' | 'requestTimeoutMs'>): void {
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS (${config.headersTimeoutMs}) must not be longer than REQUEST_TIMEOUT_MS (${config.requestTimeoutMs}): the headers are part of the request`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function readConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const auth = authSettings(env);
  return {
    port: integer(env, 'PORT', SERVER_DEFAULTS.port, 0, 65535),
    host: nonEmpty(env, 'HOST', SERVER_DEFAULTS.host),
    dataDir: path.resolve(nonEmpty(env, 'DATA_DIR', SERVER_DEFAULTS.dataDir)),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, SERVER_DEFAULTS.logLevel),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', SERVER_DEFAULTS.bodyLimitBytes, 1024, 512 * 1024 * 1024),
    jsonMaxDepth: integer(env, 'JSON_MAX_DEPTH', SERVER_DEFAULTS.jsonMaxDepth, 16, 1000),
    ...connectionSettings(env),
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const, SERVER_DEFAULTS.sqliteSynchronous),
    commitWindowMs: integer(env, 'COMMIT_WINDOW_MS', SERVER_DEFAULTS.commitWindowMs, 0, 1000),
    commitWindowGroup: integer(env, 'COMMIT_WINDOW_GROUP', SERVER_DEFAULTS.commitWindowGroup, 2, 1000),
    attachmentMaxBytes: integer(env, 'ATTACHMENT_MAX_BYTES', SERVER_DEFAULTS.attachmentMaxBytes, 1024, 1024 * 1024 * 1024),
    attachmentUploadExpiryMs: integer(env, 'ATTACHMENT_UPLOAD_EXPIRY_MS', SERVER_DEFAULTS.attachmentUploadExpiryMs, 1_000, 30 * 24 * 3600_000),
    attachmentFinishWaitMs: integer(env, 'ATTACHMENT_FINISH_WAIT_MS', SERVER_DEFAULTS.attachmentFinishWaitMs, 10, 60_000),
    devTokens: devTokensSetting(env),
    cadBackendUrl: optionalUrl(env, 'CAD_BACKEND_URL'),
    cadBackendAuthToken: raw(env, 'CAD_BACKEND_AUTH_TOKEN'),
    cadTenantId: nonEmpty(env, 'CAD_TENANT_ID', SERVER_DEFAULTS.cadTenantId),
    cadTimeZone: timeZone(env, 'CAD_TIME_ZONE'),
    orderIntakeToleranceSeconds: integer(env, 'ORDER_INTAKE_TOLERANCE_SECONDS', SERVER_DEFAULTS.orderIntakeToleranceSeconds, 5, 3600),
    cadBackends: cadBackendList(env, 'CAD_BACKENDS'),
    cadGpsCoalesceMs: integer(env, 'CAD_GPS_COALESCE_MS', SERVER_DEFAULTS.cadGpsCoalesceMs, 0, 60_000),
    liveGpsIntervalMs: integer(env, 'LIVE_GPS_INTERVAL_MS', SERVER_DEFAULTS.liveGpsIntervalMs, 0, 60_000),
    dispatchAckAlertSeconds: integer(env, 'DISPATCH_ACK_ALERT_SECONDS', SERVER_DEFAULTS.dispatchAckAlertSeconds, DISPATCH_ACK_ALERT_MIN_SECONDS, DISPATCH_ACK_ALERT_MAX_SECONDS),
    outboxClaimLeaseMs: integer(env, 'OUTBOX_CLAIM_LEASE_MS', SERVER_DEFAULTS.outboxClaimLeaseMs, 1_000, 3_600_000),
    pushWorkerMinBytes: integer(env, 'PUSH_WORKER_MIN_BYTES', SERVER_DEFAULTS.pushWorkerMinBytes, 0, 512 * 1024 * 1024),
    buildApps: boolean(env, 'BUILD_APPS', SERVER_DEFAULTS.buildApps),
    autoClaimAfterFinalize: boolean(env, 'AUTO_CLAIM_AFTER_FINALIZE', SERVER_DEFAULTS.autoClaimAfterFinalize),
    nemsisXsdDir: existingDir(env, 'NEMSIS_DIR', path.resolve(NEMSIS_DEFAULT_DIR)),
    schematronCacheDir: path.resolve(nonEmpty(env, 'SCHEMATRON_CACHE_DIR', SERVER_DEFAULTS.schematronCacheDir)),
    hospitalEndpoints: endpointMap(env, 'HOSPITAL_ENDPOINTS'),
    claimsEndpoint: optionalUrl(env, 'CLAIMS_ENDPOINT'),
    stateEndpointHosts: hostList(env, 'STATE_ENDPOINT_HOSTS'),
    integrationTimeoutMs: integer(env, 'INTEGRATION_TIMEOUT_MS', INTEGRATION_DEFAULTS.integrationTimeoutMs, 10, 300_000),
    integrationRetries: integer(env, 'INTEGRATION_RETRIES', INTEGRATION_DEFAULTS.integrationRetries, 0, 10),
    integrationBackoffMs: integer(env, 'INTEGRATION_BACKOFF_MS', INTEGRATION_DEFAULTS.integrationBackoffMs, 1, 60_000),
    integrationBackoffMaxMs: integer(env, 'INTEGRATION_BACKOFF_MAX_MS', INTEGRATION_DEFAULTS.integrationBackoffMaxMs, 1, 300_000),
    breakerThreshold: integer(env, 'BREAKER_THRESHOLD', INTEGRATION_DEFAULTS.breakerThreshold, 1, 1000),
    breakerHalfOpenAfterMs: integer(env, 'BREAKER_HALF_OPEN_AFTER_MS', INTEGRATION_DEFAULTS.breakerHalfOpenAfterMs, 10, 3_600_000),
    ...auth,
    ...storeSettings(env),
    // A demo or development server may make its own audit key, as it may keep its own signing key.
    ...auditSettings(env, auth.seedDemo || devTokensSetting(env)),
    ...mapSettings(env),
  };
}

/** A tile archive's file name: no directories, so a setting can never reach outside DATA_DIR/tiles. */
export const TILE_ARCHIVE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.pmtiles$/;

function mapSettings(env: NodeJS.ProcessEnv): Pick<ServerConfig, 'mapTileArchive' | 'mapStyleUrl' | 'geocoderUrl' | 'geocoderKind' | 'geocoderApiKey' | 'routerUrl'> {
  const archive = raw(env, 'MAP_TILE_ARCHIVE');
  if (archive !== undefined && !TILE_ARCHIVE_NAME.test(archive)) {
    throw new ConfigError(`MAP_TILE_ARCHIVE must be the file name of a PMTiles archive in DATA_DIR/tiles (like city.pmtiles: letters, digits, . _ -), got "${archive}"`);
  }
  return {
    mapTileArchive: archive,
    mapStyleUrl: optionalUrl(env, 'MAP_STYLE_URL'),
    geocoderUrl: optionalUrl(env, 'GEOCODER_URL'),
    geocoderKind: oneOf(env, 'GEOCODER_KIND', ['nominatim', 'pelias'] as const, SERVER_DEFAULTS.geocoderKind),
    geocoderApiKey: raw(env, 'GEOCODER_API_KEY'),
    routerUrl: optionalUrl(env, 'ROUTER_URL'),
  };
}

function auditSettings(env: NodeJS.ProcessEnv, trial: boolean): Pick<ServerConfig,
  'auditKey' | 'auditKeyFile' | 'auditCheckpointFile' | 'auditCheckpointUrl' | 'auditCheckpointIntervalMs'> {
  const dataDir = path.resolve(nonEmpty(env, 'DATA_DIR', SERVER_DEFAULTS.dataDir));
  const auditKey = raw(env, 'AUDIT_KEY');
  const keyFile = raw(env, 'AUDIT_KEY_FILE');
  if (auditKey !== undefined && keyFile !== undefined) throw new ConfigError('set AUDIT_KEY or AUDIT_KEY_FILE, not both');
  if (auditKey !== undefined && auditKey.length < 32) throw new ConfigError(`AUDIT_KEY must be at least 32 characters, got ${auditKey.length} (e.g. \`openssl rand -base64 48\`)`);
  const auditKeyFile = keyFile === undefined ? undefined : path.resolve(keyFile);
  // A key beside the log lets whoever takes the data directory recompute the chain.
  if (auditKeyFile !== undefined && !path.relative(dataDir, auditKeyFile).startsWith('..')) {
    throw new ConfigError(`AUDIT_KEY_FILE must be outside DATA_DIR (${dataDir}), got "${keyFile}": a key beside the log does not protect it`);
  }
  if (auditKey === undefined && auditKeyFile === undefined && !trial) {
    throw new ConfigError('AUDIT_KEY or AUDIT_KEY_FILE is required (the audit chain\'s HMAC key, at least 32 random characters, e.g. `openssl rand -base64 48`, kept away from DATA_DIR and the database); only a demo or development server (SEED_DEMO=true, DEV_TOKENS=true) may run without one');
  }
  const checkpointFile = raw(env, 'AUDIT_CHECKPOINT_FILE');
  return {
    auditKey,
    auditKeyFile,
    auditCheckpointFile: checkpointFile === undefined ? undefined : path.resolve(checkpointFile),
    auditCheckpointUrl: optionalUrl(env, 'AUDIT_CHECKPOINT_URL'),
    auditCheckpointIntervalMs: integer(env, 'AUDIT_CHECKPOINT_INTERVAL_MS', SERVER_DEFAULTS.auditCheckpointIntervalMs, 100, 24 * 3600_000),
  };
}

function connectionSettings(env: NodeJS.ProcessEnv): Pick<ServerConfig,
  | 'requestTimeoutMs' | 'headersTimeoutMs' | 'connectionIdleTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections'
  | 'socketMessageLimit' | 'socketMessageWindowMs'> {
  const settings = {
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', SERVER_DEFAULTS.requestTimeoutMs, 100, 3_600_000),
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', SERVER_DEFAULTS.headersTimeoutMs, 100, 3_600_000),
    connectionIdleTimeoutMs: integer(env, 'CONNECTION_IDLE_TIMEOUT_MS', SERVER_DEFAULTS.connectionIdleTimeoutMs, 100, 3_600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', SERVER_DEFAULTS.keepAliveTimeoutMs, 100, 3_600_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', SERVER_DEFAULTS.maxConnections, 1, 1_000_000),
    socketMessageLimit: integer(env, 'SOCKET_MESSAGE_LIMIT', SERVER_DEFAULTS.socketMessageLimit, 1, 1_000_000),
    socketMessageWindowMs: integer(env, 'SOCKET_MESSAGE_WINDOW_MS', SERVER_DEFAULTS.socketMessageWindowMs, 100, 3_600_000),
  };
  checkConnectionLimits(settings);
  return settings;
}

function storeSettings(env: NodeJS.ProcessEnv): Pick<ServerConfig, 'storeKind' | 'databaseUrl' | 'databaseSchema'> {
  const storeKind = oneOf(env, 'STORE', ['sqlite', 'postgres'] as const, SERVER_DEFAULTS.storeKind);
  const databaseUrl = raw(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (storeKind === 'postgres' && databaseUrl === undefined) {
    throw new ConfigError('DATABASE_URL is required when STORE=postgres (postgres://user:password@host:5432/database)');
  }
  const databaseSchema = nonEmpty(env, 'DATABASE_SCHEMA', SERVER_DEFAULTS.databaseSchema);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError(`DATABASE_SCHEMA must be a plain identifier (letters, digits, _), got "${databaseSchema}"`);
  }
  return { storeKind, databaseUrl, databaseSchema };
}

/** NODE_ENV=development turns development tokens on; anything else (production, unset) leaves them off. */
function devTokensSetting(env: NodeJS.ProcessEnv): boolean {
  return boolean(env, 'DEV_TOKENS', raw(env, 'NODE_ENV') === 'development' ? true : SERVER_DEFAULTS.devTokens);
}

function authSettings(env: NodeJS.ProcessEnv): Pick<ServerConfig,
  | 'jwtSecret' | 'transportKeySecret' | 'accessTokenTtlSeconds' | 'refreshTokenTtlSeconds' | 'corsOrigins' | 'publicOrigin' | 'trustProxy' | 'rateLimitWindowMs'
  | 'syncRateLimit' | 'loginRateLimit' | 'loginAccountRateLimit' | 'loginIpRateLimit' | 'loginGlobalRateLimit' | 'metricsToken' | 'seedDemo'> {
  const devTokens = devTokensSetting(env);
  const nodeEnv = raw(env, 'NODE_ENV');
  const jwtSecret = raw(env, 'JWT_SECRET');
  // A server with nothing configured is a trial (`npm start` on a fresh machine): it gets the demo
  // agency and keeps its own signing key in DATA_DIR. Setting JWT_SECRET or NODE_ENV=production says
  // it is not, and then only SEED_DEMO=true brings the published demo passwords back.
  const seedDemo = boolean(env, 'SEED_DEMO', nodeEnv === 'development' || (jwtSecret === undefined && nodeEnv !== 'production'));
  if (jwtSecret === undefined && !devTokens && !seedDemo) {
    throw new ConfigError('JWT_SECRET is required (at least 32 random characters, e.g. `openssl rand -base64 48`); only a demo or development server (SEED_DEMO=true, DEV_TOKENS=true) may run without one');
  }
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError(`JWT_SECRET must be at least 32 characters, got ${jwtSecret.length}`);
  const transportKeySecret = raw(env, 'TRANSPORT_KEY_SECRET');
  if (transportKeySecret !== undefined && transportKeySecret.length < 32) throw new ConfigError(`TRANSPORT_KEY_SECRET must be at least 32 characters, got ${transportKeySecret.length}`);
  // On PostgreSQL every process must sign and open with the same keys: a deployment names them.
  if (raw(env, 'STORE') === 'postgres' && !devTokens && !seedDemo && transportKeySecret === undefined) {
    throw new ConfigError('TRANSPORT_KEY_SECRET is required with STORE=postgres (at least 32 random characters, e.g. `openssl rand -base64 48`, the same for every process): devices\' transport keys are kept sealed with it in the database');
  }
  const metricsToken = raw(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 32) throw new ConfigError(`METRICS_TOKEN must be at least 32 characters, got ${metricsToken.length}`);
  const accessTokenTtlSeconds = integer(env, 'ACCESS_TOKEN_TTL_SECONDS', AUTH_DEFAULTS.accessTokenTtlSeconds, 10, 24 * 3600);
  const publicOrigins = originList(env, 'PUBLIC_ORIGIN');
  if (publicOrigins.length > 1) throw new ConfigError('PUBLIC_ORIGIN is one origin, like https://fieldsync.example.org (list other origins in CORS_ORIGINS)');
  return {
    jwtSecret,
    transportKeySecret,
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds: integer(env, 'REFRESH_TOKEN_TTL_SECONDS', AUTH_DEFAULTS.refreshTokenTtlSeconds, 60, 365 * 24 * 3600),
    corsOrigins: originList(env, 'CORS_ORIGINS'),
    publicOrigin: publicOrigins[0],
    trustProxy: trustProxySetting(env, 'TRUST_PROXY'),
    rateLimitWindowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', AUTH_DEFAULTS.rateLimitWindowMs, 1000, 3_600_000),
    syncRateLimit: integer(env, 'SYNC_RATE_LIMIT', AUTH_DEFAULTS.syncRateLimit, 1, 10_000_000),
    loginRateLimit: integer(env, 'LOGIN_RATE_LIMIT', AUTH_DEFAULTS.loginRateLimit, 1, 100_000),
    loginAccountRateLimit: integer(env, 'LOGIN_ACCOUNT_RATE_LIMIT', AUTH_DEFAULTS.loginAccountRateLimit, 1, 100_000),
    loginIpRateLimit: integer(env, 'LOGIN_IP_RATE_LIMIT', AUTH_DEFAULTS.loginIpRateLimit, 1, 1_000_000),
    loginGlobalRateLimit: integer(env, 'LOGIN_GLOBAL_RATE_LIMIT', AUTH_DEFAULTS.loginGlobalRateLimit, 1, 10_000_000),
    metricsToken,
    seedDemo,
  };
}

/** `TRUST_PROXY`: unset or false (none), a hop count (`1`), or addresses and CIDRs (`127.0.0.1,10.0.0.0/8`). */
function trustProxySetting(env: NodeJS.ProcessEnv, name: string): false | number | string[] {
  const value = raw(env, name);
  if (value === undefined || ['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false;
  if (['true', 'yes', 'on'].includes(value.toLowerCase())) {
    throw new ConfigError(`${name}=true would believe X-Forwarded-For from anyone: give the proxy's addresses (e.g. 127.0.0.1) or a hop count`);
  }
  if (/^[0-9]+$/.test(value)) return integer(env, name, 0, 1, 10);
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > maxBits))) {
      throw new ConfigError(`${name}: "${item}" is not an address or CIDR like 127.0.0.1 or 10.0.0.0/8`);
    }
    return item;
  });
}

/** Comma-separated origins such as `https://mdt.example.org,http://localhost:5173`; no wildcard. */
function originList(env: NodeJS.ProcessEnv, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => {
    if (item === '*') throw new ConfigError(`${name} may not be "*": list the origins allowed to call the API`);
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ConfigError(`${name}: "${item}" is not an origin like https://mdt.example.org`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item.replace(/\/$/, '')) {
      throw new ConfigError(`${name}: "${item}" must be just scheme, host and port, like https://mdt.example.org`);
    }
    return url.origin;
  });
}

/** Comma-separated hosts such as `nemsis.ct.example.gov,validator.nemsis.org:443`. */
function hostList(env: NodeJS.ProcessEnv, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  return value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '').map((item) => {
    if (!/^[a-z0-9.-]+(:[0-9]{1,5})?$/.test(item)) throw new ConfigError(`${name}: "${item}" is not a host (like nemsis.state.example.gov or host:8443)`);
    return item;
  });
}

/** A directory that must exist when set explicitly; the default is used only if it exists. */
function existingDir(env: NodeJS.ProcessEnv, name: string, fallback: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return existsSync(path.join(fallback, 'EMSDataSet_v3.xsd')) ? fallback : undefined;
  const dir = path.resolve(value);
  if (!existsSync(path.join(dir, 'EMSDataSet_v3.xsd'))) throw new ConfigError(`${name} must be a directory holding EMSDataSet_v3.xsd, got "${value}"`);
  return dir;
}

/** An IANA time zone name, checked against the zone data Intl has. */
function timeZone(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = raw(env, name)?.trim();
  if (!value) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new Error(`${name} must be an IANA time zone such as America/New_York; got "${value}"`);
  }
  return value;
}

function raw(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** An absolute http(s) URL; anything else is refused at start-up rather than at the first call. */
function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http or https URL, got "${value}"`);
  }
  return url.toString();
}

function optionalUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = raw(env, name);
  return value === undefined ? undefined : checkUrl(name, value);
}

export interface CadBackendConfig {
  readonly tenantId: string;
  readonly url: string;
  readonly authToken: string | undefined;
  /** The agency's IANA time zone, as CAD_TIME_ZONE (unset: this machine's zone). */
  readonly timeZone?: string | undefined;
}

/** `[{"tenantId":"agency-b","url":"https://cad.b.example","authToken":"…"}]`: one CAD per agency. */
function cadBackendList(env: NodeJS.ProcessEnv, name: string): CadBackendConfig[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`${name} must be a JSON array of {"tenantId","url","authToken"}; it is not JSON.`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(`${name} must be a JSON array of {"tenantId","url","authToken"}.`);
  const seen = new Set<string>();
  return parsed.map((entry: unknown, i) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof e['tenantId'] !== 'string' || e['tenantId'].trim() === '') throw new ConfigError(`${name}[${i}].tenantId must name an agency.`);
    if (typeof e['url'] !== 'string') throw new ConfigError(`${name}[${i}].url must be the CAD backend's URL.`);
    if (e['authToken'] !== undefined && typeof e['authToken'] !== 'string') throw new ConfigError(`${name}[${i}].authToken must be a string.`);
    if (e['timeZone'] !== undefined && typeof e['timeZone'] !== 'string') throw new ConfigError(`${name}[${i}].timeZone must be an IANA time zone such as America/New_York.`);
    const tenantId = e['tenantId'].trim();
    if (seen.has(tenantId)) throw new ConfigError(`${name} names agency ${tenantId} twice; an agency has one CAD.`);
    seen.add(tenantId);
    const zone = timeZone({ [`${name}[${i}].timeZone`]: e['timeZone'] as string | undefined }, `${name}[${i}].timeZone`);
    return { tenantId, url: checkUrl(`${name}[${i}].url`, e['url'].trim()), authToken: e['authToken'] as string | undefined, ...(zone ? { timeZone: zone } : {}) };
  });
}

const DESTINATION_CODE = /^[A-Za-z0-9._-]{1,64}$/;

/** A JSON object of code → URL, e.g. `{"STMARY":"https://hl7.stmary.example/ems/notices"}`. */
function endpointMap(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const value = raw(env, name);
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`${name} must be a JSON object of destination code to URL, e.g. {"STMARY":"https://…"}; it is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${name} must be a JSON object of destination code to URL, e.g. {"STMARY":"https://…"}`);
  }
  const endpoints: Record<string, string> = {};
  for (const [code, url] of Object.entries(parsed)) {
    if (!DESTINATION_CODE.test(code)) throw new ConfigError(`${name}: destination code "${code}" may only use letters, digits, ".", "_" and "-" (up to 64)`);
    if (typeof url !== 'string') throw new ConfigError(`${name}: the endpoint of "${code}" must be a URL string`);
    endpoints[code] = checkUrl(`${name} (${code})`, url);
  }
  return endpoints;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

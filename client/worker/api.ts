/**
 * The typed API between an app's UI (main thread) and its database worker. Everything that
 * crosses is plain JSON (structured clone); callbacks are Comlink proxies. Queries are
 * subscriptions: the worker calls back with the full result every time it changes.
 */
import type { CollectionName } from '../../shared/schemas/index.ts';
import type { RawTransportKey } from '../sync/queue-seal.ts';

export type JsonDoc = Record<string, unknown>;

export interface OpenOptions {
  /** One database per device and user; see `databaseNameFor`. */
  dbName: string;
  /**
   * The database key (client/session/keys.ts), unwrapped in the page: the ePCR's PHI is stored
   * encrypted with it. Memory only; a database made with one key does not open with another
   * (the open fails with a `WrongDatabaseKeyError`).
   */
  password: string;
  /**
   * The transport key (client/session/transport-key.ts), unwrapped in the page like `password`:
   * copies of patient data handed to the service worker's queue are sealed with it. Memory only.
   */
  transportKey?: RawTransportKey;
  /**
   * A developer-token session: there is no transport key and nothing is protected at rest, so the
   * queue keeps rows in clear. Without it and without `transportKey`, collections with patient
   * data skip the queue (pushed directly) rather than wait there in clear.
   */
  developerSession?: boolean;
  /** The signed-in user, recorded beside every queued row. */
  userId?: string;
  /** The server's origin, e.g. `http://127.0.0.1:8080` (the page's own origin). */
  serverUrl: string;
  deviceId: string;
  /** Every collection the role may pull: all tabs of one database must open the same set. */
  collections: CollectionName[];
  /** Collections whose documents carry a per-document sync badge (GPS points do not). */
  badgeCollections: CollectionName[];
  /** Wait after a failed request before the next try (default 2000 ms). */
  retryTimeMs?: number;
  pullBatchSize?: number;
  pushBatchSize?: number;
  /**
   * A service worker controls the page: pushes go into its durable outbound queue (sw/queue/),
   * which delivers them even with every app closed. Otherwise they go straight over HTTP.
   */
  serviceWorkerQueue?: boolean;
}

/** What the UI may call back into: the session lives on the main thread (localStorage, refresh). */
export interface HostCallbacks {
  /** A current access token; refreshes it first when it is about to expire. */
  getToken(): Promise<string>;
  /** The server refused the token (401): the UI refreshes the session or asks to sign in again. `token`: the one refused. */
  authFailed(message: string, token?: string): void;
  /**
   * Changes were durably queued in the service worker's outbound queue: the page wakes the
   * service worker (`fieldsync:kick`) and asks for a Background Sync where the browser has it.
   */
  outboxQueued?(): void;
}

/**
 * Per-document sync state, as the badge shows it:
 * - `pending`: saved on this device, not yet confirmed by the server;
 * - `synced`: the server holds exactly this version;
 * - `conflict`: synced, and another device's edit was merged into it (`conflicts` entries, or a merge revision `n-m…`);
 * - `rejected`: the server refused it; `reason` says why in plain words;
 * - `unknown`: not known yet (the tab that syncs has not reported).
 */
export type BadgeState = 'pending' | 'synced' | 'conflict' | 'rejected' | 'unknown';
export interface DocBadge {
  state: BadgeState;
  reason?: string;
  /** Refused: the server's refusal code (NO_CREATE, OUT_OF_SCOPE, INVALID_DOCUMENT, …), for what to do about it. */
  code?: string;
  /** Number of merged-away values kept in the document's `conflicts`. */
  conflicts?: number;
  /** Signatures and photos of the document still waiting on this device for their upload. */
  attachmentsWaiting?: number;
}
export interface DocView<T = JsonDoc> {
  doc: T;
  badge: DocBadge;
}

/** A refusal of one document, from the push error or the access-control rejection channel. */
export interface Rejection {
  collection: string;
  id: string;
  code: string;
  reason: string;
  /** The `rev` that was refused: a newer local edit clears the rejection. */
  rev?: string;
  at: number;
}

export interface CollectionProgress {
  /** Documents received from the server since this device started its first sync. */
  received: number;
  done: boolean;
  error?: string;
}

export interface SyncSnapshot {
  /** `leader`: this tab's worker replicates; `follower`: another tab does, this one relays its status. */
  role: 'starting' | 'leader' | 'follower';
  /** The live change stream is connected: the server is reachable right now. */
  connected: boolean;
  /** Device clock when the last request to the server succeeded. */
  lastSyncedAt?: number;
  /** The last problem, in plain words; cleared by the next success. */
  lastError?: string;
  /** The server needs a newer app (426); local changes are kept. */
  updateRequired: boolean;
  /** Changes waiting for the server, per collection. */
  pending: Record<string, number>;
  totalPending: number;
  /** First sync of this device: documents received so far and per-collection state (no total exists). */
  initial: { done: boolean; received: number; collections: Record<string, CollectionProgress> };
  rejections: Rejection[];
  /** Time of the last status heard from the syncing tab (followers only). */
  heardAt?: number;
  /** The outbound queue the service worker holds (absent until it was read once). */
  queue?: QueueView;
}

/** One change the server refused, as the service worker's queue set it aside (outbox `rejected`). */
export interface QueuedRejection {
  collection: string;
  id: string;
  code: string;
  reason: string;
  at: number;
  /** The refused revision: a badge shows "refused" only while the document still has it. */
  rev?: string;
  /** Who queued the change, when recorded: on a shared device, possibly not the user signed in now. */
  writerUserId?: string;
}

/**
 * What the apps show of the device's outbound queue (client/queue/, delivered by the service worker),
 * read by the database worker: how many changes wait per kind, since when, the last error and
 * the changes the server refused.
 */
export interface QueueView {
  /** Where this tab's pushes go: the service worker's queue, or straight to the server (no service worker yet). */
  mode: 'service-worker' | 'direct';
  /** Changes waiting in the queue, per collection (`attachments`: signatures and photos waiting for their upload). */
  waiting: Record<string, number>;
  total: number;
  /** Bytes of the attachments waiting for their upload. */
  attachmentBytes?: number;
  /** Device clock when the oldest waiting change was queued. */
  oldestQueuedAt?: number;
  /** The last delivery problem in plain words; cleared by the next complete delivery. */
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** Delivery stopped until someone signs in again. */
  signedOut?: boolean;
  /** The server needs a newer app (426). */
  updateRequired?: boolean;
  /** Refused changes, newest first (at most 50). */
  rejected: QueuedRejection[];
  rejectedTotal: number;
}

/** A find query (RxDB mango subset): `selector` on fields, `sort` entries, `limit`. */
export interface QuerySpec {
  selector?: JsonDoc;
  sort?: Record<string, 'asc' | 'desc'>[];
  limit?: number;
}

/** A path into a document; `{ id }` picks the item with that id in a list (vitals, medications…). */
export type PathSegment = string | { id: string };
export type Path = PathSegment[];

/** One change to a document; a write applies a list of them in one revision. */
export type Op =
  | { op: 'set'; path: Path; value: unknown }
  | { op: 'unset'; path: Path }
  | { op: 'append'; path: Path; value: unknown }
  | { op: 'removeItem'; path: Path; itemId: string };

export type Unsubscribe = () => void;

/**
 * A signature or photo as the capture component hands it over (client/ui/attachments/): the
 * bytes as they will be stored and uploaded (compressed on the device), a thumbnail for photos,
 * and the metadata the document's `attachments` item gets (shared/schemas/attachments.ts), less
 * what the worker computes (sha256, size, contentType, thumbnail).
 */
export interface CapturedAttachment {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  thumbnail?: { bytes: Uint8Array<ArrayBuffer>; contentType: string };
  item: JsonDoc;
}

/** An attachment's bytes read back: from this device while they wait for their upload, or from the server. */
export interface AttachmentBytes {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  source: 'device' | 'server';
}

export interface WorkerApi {
  open(options: OpenOptions, host: HostCallbacks): Promise<{ leader: boolean }>;
  watchStatus(callback: (snapshot: SyncSnapshot) => void): Promise<Unsubscribe>;
  watchQuery(collection: CollectionName, spec: QuerySpec, callback: (docs: DocView[]) => void): Promise<Unsubscribe>;
  /** Inserts a new document (the worker adds `rev`); returns it as stored. */
  insert(collection: CollectionName, doc: JsonDoc): Promise<JsonDoc>;
  bulkInsert(collection: CollectionName, docs: JsonDoc[]): Promise<number>;
  /** Applies `ops` to the current local state in one new revision. */
  mutate(collection: CollectionName, id: string, ops: Op[]): Promise<JsonDoc>;
  /** Inserts `doc` unless a document with its id exists; then applies `ops` to it (if any). */
  upsert(collection: CollectionName, doc: JsonDoc, ops?: Op[]): Promise<JsonDoc>;
  remove(collection: CollectionName, id: string): Promise<void>;
  count(collection: CollectionName, selector?: JsonDoc): Promise<number>;
  /** Pull everything new now (on focus, when the network returns). */
  resync(): Promise<void>;
  /** The page's view of the network changed (workers get `online` late or not at all). */
  networkChanged(online: boolean): Promise<void>;
  /** Hook for the access-control rejection channel: marks a document refused, with the reason. */
  reportRejection(rejection: Rejection): Promise<void>;
  /** A service worker took control of the page (or let go): switch pushes to its queue (or back to HTTP). */
  useServiceWorkerQueue(enabled: boolean): Promise<void>;
  /** The person signed in again after the server refused the session: replication (and its live stream) starts over with the new token. */
  sessionRenewed(): Promise<void>;
  /** Reads the outbound queue again now (e.g. after the page woke the service worker). */
  refreshQueue(): Promise<void>;
  /** Keeps a captured signature or photo with the document (attachments.ts): bytes sealed in the queue, metadata in the document. Returns the item. */
  attach(collection: CollectionName, docId: string, captured: CapturedAttachment): Promise<JsonDoc>;
  /** The bytes of an attachment (or its thumbnail) the document lists. */
  attachmentBytes(collection: CollectionName, docId: string, sha256: string): Promise<AttachmentBytes>;
  close(): Promise<void>;
}

/** BroadcastChannel messages between the workers of one database (and other senders, e.g. the SW queue). */
export type ChannelMessage =
  | { type: 'hello'; from: string }
  | { type: 'status'; from: string; snapshot: SyncSnapshot }
  | { type: 'masters'; from: string; collection: string; full: boolean; entries: [string, string | null][] }
  | { type: 'rejected'; rejection: Rejection }
  | { type: 'rejection-cleared'; collection: string; id: string };

export const channelName = (dbName: string) => `fieldsync-sync:${dbName}`;
/** Other parts of the app (the service worker's queue, access control) announce refused documents here. */
export const REJECTION_CHANNEL = 'fieldsync-rejections';

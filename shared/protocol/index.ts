/**
 * Wire protocol types shared by the server, the client sync library and the service worker.
 * docs/protocol.md describes the same thing for people.
 */

/** Opaque to clients: the server's commit sequence of the last change they have. */
export interface Checkpoint {
  seq: number;
}

export interface PullResponse<Doc = Record<string, unknown>> {
  documents: Doc[];
  checkpoint: Checkpoint;
}

export interface PushRow<Doc = Record<string, unknown>> {
  assumedMasterState?: Doc;
  newDocumentState: Doc;
}

/** The push answer: the current server state of the conflicting documents only. */
export type PushResponse<Doc = Record<string, unknown>> = Doc[];

export type Role = 'crew' | 'dispatcher' | 'technician' | 'biller' | 'admin';
export const ROLES: readonly Role[] = ['crew', 'dispatcher', 'technician', 'biller', 'admin'];

/** Who is asking: flows through pull, push and the stream so every access can be scoped. */
export interface Identity {
  tenantId: string;
  role: Role;
  deviceId: string;
  userId: string;
  /** Crews belong to a unit. */
  unitId?: string;
  /** Technicians are themselves the assignee of jobs. */
  technicianId?: string;
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    /** Per document or field problems, when the error is about the request's content. */
    details?: { index?: number; id?: string; path?: string; message: string }[];
  };
  requestId: string;
}

/** socket.io events of the live change stream (namespace `/sync`). */
export const STREAM_NAMESPACE = '/sync';
export const STREAM_EVENTS = {
  /** client → server, with ack: `{ collections: { name: schemaVersion } }`. */
  subscribe: 'subscribe',
  /** server → client: `{ collection, documents, checkpoint }`. */
  change: 'change',
} as const;

export interface StreamSubscribeRequest {
  collections: Record<string, number>;
}
export interface StreamSubscribeAck {
  ok: boolean;
  subscribed: string[];
  error?: ErrorBody['error'];
}
export interface StreamChange<Doc = Record<string, unknown>> {
  collection: string;
  documents: Doc[];
  checkpoint: Checkpoint;
}

export const SCHEMA_VERSION_PARAM = 'schemaVersion';
export const SYNC_BASE_PATH = '/api/sync';

/** The socket.io side of the protocol: the change stream (`/sync`) and the live feed (`/live`), docs/protocol.md §11–12. */
import type { Checkpoint, ErrorBody } from './bodies.ts';

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

/** The live dispatch feed's namespace. */
export const LIVE_NAMESPACE = '/live';

/** What a socket sends to be let in: `auth: { token }`, the raw token without `Bearer `. */
export interface SocketHandshakeAuth {
  token?: string;
}

import type { RxReplicationPullStreamItem } from 'rxdb';
import { Subject } from 'rxjs';
import { io, type Socket } from 'socket.io-client';
import {
  STREAM_EVENTS, STREAM_NAMESPACE, type StreamChange, type StreamSubscribeAck,
} from '../../shared/protocol/index.ts';
import type { TokenSource } from './transport.ts';

export type PullStreamItem = RxReplicationPullStreamItem<Record<string, unknown>, { seq: number }>;

export interface ChangeStreamOptions {
  serverUrl: string;
  getToken: TokenSource;
  /** Collection name → schema version, as the pull and push endpoints take it. */
  collections: Record<string, number>;
  onStatus?: (connected: boolean, error?: string) => void;
}

/**
 * One socket.io connection per device feeding each collection's `pull.stream$`. After every
 * (re)subscription each collection gets RESYNC, so RxDB re-reads from its checkpoint whatever
 * was committed while the socket was away: nothing depends on the socket never dropping.
 */
export class ChangeStream {
  readonly streams = new Map<string, Subject<PullStreamItem>>();
  private readonly socket: Socket;

  constructor(private readonly options: ChangeStreamOptions) {
    for (const name of Object.keys(options.collections)) this.streams.set(name, new Subject<PullStreamItem>());
    this.socket = io(options.serverUrl + STREAM_NAMESPACE, {
      transports: ['websocket'],
      auth: (callback) => {
        Promise.resolve(options.getToken()).then((token) => callback({ token }), () => callback({}));
      },
      reconnectionDelay: 500,
      reconnectionDelayMax: 10_000,
      randomizationFactor: 0.5,
    });
    this.socket.on('connect', () => this.subscribe());
    this.socket.on('disconnect', () => options.onStatus?.(false));
    this.socket.on('connect_error', (error) => options.onStatus?.(false, error.message));
    this.socket.on(STREAM_EVENTS.change, (change: StreamChange) => {
      this.streams.get(change.collection)?.next({ documents: change.documents as never, checkpoint: change.checkpoint });
    });
  }

  stream(collection: string): Subject<PullStreamItem> {
    const stream = this.streams.get(collection);
    if (!stream) throw new Error(`the change stream was not opened for ${collection}`);
    return stream;
  }

  private subscribe(): void {
    this.socket.timeout(10_000).emit(STREAM_EVENTS.subscribe, { collections: this.options.collections }, (err: Error | null, ack?: StreamSubscribeAck) => {
      if (err || !ack?.ok) {
        this.options.onStatus?.(false, err?.message ?? ack?.error?.message ?? 'subscription refused');
        return;
      }
      this.options.onStatus?.(true);
      for (const stream of this.streams.values()) stream.next('RESYNC');
    });
  }

  close(): void {
    this.socket.close();
    for (const stream of this.streams.values()) stream.complete();
  }
}

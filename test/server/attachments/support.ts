/**
 * Helpers of the attachment tests: images that pass the magic-number check, a tus upload by
 * tus-js-client (the real client, in Node), raw tus requests, and a TCP proxy that counts the
 * bytes a client sends and cuts the connection at the socket.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import * as tus from 'tus-js-client';
import type { Store } from '../../../server/store/types.ts';
import { make, seed } from '../../helpers/access.ts';
import type { TestServer } from '../../helpers/server.ts';
import { ATTACHMENTS, pathOf, TUS_CONTENT_TYPE, TUS_VERSION } from '../../../shared/protocol/index.ts';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `size` bytes that start like a JPEG (the server checks magic numbers, not the whole image). */
export function jpegBytes(size: number): Buffer {
  const bytes = randomBytes(size);
  bytes[0] = 0xff; bytes[1] = 0xd8; bytes[2] = 0xff; bytes[3] = 0xe0;
  return bytes;
}

/** A real 1×1 PNG (what a signature pad exports, in miniature). */
export const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

export function metadataHeader(values: Record<string, string>): string {
  return Object.entries(values).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');
}

export interface UploadMeta { sha256: string; contentType: string; collection: string; docId: string; kid?: string }

/** Uploads with tus-js-client; resolves with the upload URL, rejects with the server's answer. */
export function tusUpload(endpoint: string, bytes: Buffer, meta: UploadMeta, headers: Record<string, string>, retryDelays: number[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(bytes, {
      endpoint,
      metadata: { ...meta },
      headers,
      retryDelays,
      uploadSize: bytes.length,
      // Every retry asks the server where it stands (HEAD) instead of trusting a stored URL.
      storeFingerprintForResuming: false,
      onSuccess: () => resolve(upload.url ?? ''),
      onError: (error) => reject(error),
    });
    upload.start();
  });
}

export async function createUpload(base: string, bytes: number, meta: UploadMeta, headers: Record<string, string>): Promise<Response> {
  return fetch(base + pathOf(ATTACHMENTS.createUpload), {
    method: 'POST',
    headers: { 'tus-resumable': TUS_VERSION, 'upload-length': String(bytes), 'upload-metadata': metadataHeader({ ...meta }), ...headers },
  });
}

/** A report of unit M1 of `tenantId` on the server, and an upload of `bytes` for it made by `headers`: its URL and id. */
export async function newReportUpload(server: TestServer, tenantId: string, bytes: Buffer, headers: Record<string, string>) {
  const doc = make.epcrs(tenantId, { unitId: 'M1' });
  await seed(server.app.store, 'epcrs', [doc]);
  const created = await createUpload(server.url, bytes.length, { sha256: sha256(bytes), contentType: 'image/jpeg', collection: 'epcrs', docId: String(doc.id) }, headers);
  if (created.status !== 201) throw new Error(`the upload was not created: ${created.status} ${await created.text()}`);
  const url = new URL(created.headers.get('location')!, server.url).href;
  return { doc, url, id: url.split('/').pop()! };
}

export async function patchUpload(url: string, offset: number, bytes: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'PATCH',
    headers: { 'tus-resumable': TUS_VERSION, 'upload-offset': String(offset), 'content-type': TUS_CONTENT_TYPE, ...headers },
    body: new Uint8Array(bytes),
  });
}

/** A TCP proxy in front of the server: counts what clients send and can cut a connection once it carried `cutAfter` bytes. */
export class CountingProxy {
  sentToServer = 0;
  cuts = 0;
  private cutAfter: number | undefined;
  private readonly server: net.Server;
  port = 0;

  constructor(private readonly target: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      let carried = 0;
      client.on('data', (chunk: Buffer) => {
        this.sentToServer += chunk.length;
        carried += chunk.length;
        upstream.write(chunk);
        if (this.cutAfter !== undefined && carried >= this.cutAfter) {
          // Once: the connection dies mid-body, as when coverage drops.
          this.cutAfter = undefined;
          this.cuts++;
          client.destroy();
          upstream.destroy();
        }
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  cutOnceAfter(bytes: number): void {
    this.cutAfter = bytes;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Holds every call of `target[name]` for which `holds(args)` until `open()`; `reached` resolves at
 * the first. The object is the real one (the store, the attachment storage): only the moment its
 * method runs is chosen, as a slow database would choose it.
 */
export function gateCalls<T extends object, K extends keyof T>(target: T, name: K, holds: (args: unknown[]) => boolean) {
  const original = target[name] as unknown as (...args: unknown[]) => Promise<unknown>;
  let reachedGate!: () => void;
  const reached = new Promise<void>((resolve) => { reachedGate = resolve; });
  let openGate!: () => void;
  const opened = new Promise<void>((resolve) => { openGate = resolve; });
  let held = 0;
  target[name] = async function (this: unknown, ...args: unknown[]) {
    if (holds(args)) {
      held++;
      reachedGate();
      await opened;
    }
    return original.apply(this, args);
  } as unknown as T[K];
  const unhook = () => { target[name] = original as unknown as T[K]; };
  return {
    reached,
    /** Calls held so far. */
    held: () => held,
    /** New calls pass again; those held stay held until `open`. */
    unhook,
    /** New calls pass again, and those held are let through. */
    open: () => {
      unhook();
      openGate();
    },
  };
}

/**
 * Holds every read of document `docId` by the real store until `open()`. An upload's finish
 * reads its document once (the access re-check): this holds the finish there.
 */
export const gateReadsOf = (store: Store, docId: string) =>
  gateCalls(store, 'getDocuments', ([, , ids]) => (ids as string[]).includes(docId));

/**
 * Lets every call of `target[name]` for which `holds(args)` run at once, but hands its answer
 * back only on `open()`; `reached` resolves when the first such call has its answer. A read made
 * now and answered late, as a slow disk or database answers it: the caller acts on what was true
 * when it asked.
 */
export function gateAnswers<T extends object, K extends keyof T>(target: T, name: K, holds: (args: unknown[]) => boolean) {
  const original = target[name] as unknown as (...args: unknown[]) => Promise<unknown>;
  let reachedGate!: () => void;
  const reached = new Promise<void>((resolve) => { reachedGate = resolve; });
  let openGate!: () => void;
  const opened = new Promise<void>((resolve) => { openGate = resolve; });
  target[name] = async function (this: unknown, ...args: unknown[]) {
    if (!holds(args)) return original.apply(this, args);
    const answer = original.apply(this, args);
    await answer.catch(() => undefined);
    reachedGate();
    await opened;
    return answer;
  } as unknown as T[K];
  const unhook = () => { target[name] = original as unknown as T[K]; };
  return {
    reached,
    /** New calls pass again; answers held stay held until `open`. */
    unhook,
    /** New calls pass again, and the answers held are handed back. */
    open: () => {
      unhook();
      openGate();
    },
  };
}

/**
 * Every call of `target[name]` for which `holds(args)` fails with `error` (as a database that went
 * away for a moment fails it) until `stop()`; the others run as ever. `failed()` counts the failures.
 */
export function failCalls<T extends object, K extends keyof T>(target: T, name: K, holds: (args: unknown[]) => boolean, error = new Error('connection terminated unexpectedly (a blip made by the test)')) {
  const original = target[name] as unknown as (...args: unknown[]) => Promise<unknown>;
  let failed = 0;
  target[name] = async function (this: unknown, ...args: unknown[]) {
    if (holds(args)) {
      failed++;
      throw error;
    }
    return original.apply(this, args);
  } as unknown as T[K];
  return {
    failed: () => failed,
    stop: () => { target[name] = original as unknown as T[K]; },
  };
}

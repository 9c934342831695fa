/// <reference lib="webworker" />
/**
 * tus-js-client's transport over `fetch`, for the service worker. The library's browser build
 * sends with XMLHttpRequest, which a service worker does not have; its `httpStack` option takes
 * any object with this shape (tus-js-client's `HttpStack`), so the library's protocol logic
 * (creation, HEAD to resume at the server's offset, PATCH chunks, errors) runs unchanged here.
 *
 * Each request gets its own deadline (a dead zone answers nothing: the browser would wait
 * minutes), is given up when coverage returns after it was sent (coverage-return.ts: a link that
 * dropped without an address change leaves it hanging; it then fails with `COVERAGE_RETURNED`),
 * and counts the bytes it sent, for the queue's figures.
 */
import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client';
import { abortOnCoverageReturn } from './coverage-return.ts';

export interface FetchHttpStackOptions {
  fetch?: typeof fetch;
  /** How long one request may take, answer included, for a body of `bytes`. */
  timeoutMs: (bytes: number) => number;
  /** Told the bytes of every request body handed to the network. */
  onSent?: (bytes: number) => void;
}

export class FetchHttpStack implements HttpStack {
  constructor(private readonly options: FetchHttpStackOptions) {}

  createRequest(method: string, url: string): HttpRequest {
    return new FetchRequest(method, url, this.options);
  }

  getName(): string {
    return 'FetchHttpStack';
  }
}

class FetchRequest implements HttpRequest {
  private readonly headers: Record<string, string> = {};
  private readonly abortController = new AbortController();

  constructor(private readonly method: string, private readonly url: string, private readonly options: FetchHttpStackOptions) {}

  getMethod(): string {
    return this.method;
  }

  getURL(): string {
    return this.url;
  }

  setHeader(header: string, value: string): void {
    this.headers[header] = value;
  }

  getHeader(header: string): string | undefined {
    const wanted = header.toLowerCase();
    return Object.entries(this.headers).find(([name]) => name.toLowerCase() === wanted)?.[1];
  }

  /** fetch reports no upload progress; the queue records the offset the server confirms after each chunk instead. */
  setProgressHandler(): void {}

  async send(body: unknown = null): Promise<HttpResponse> {
    const payload = body === null || body === undefined ? undefined : body as BodyInit;
    const bytes = payload instanceof Blob ? payload.size : payload instanceof ArrayBuffer || ArrayBuffer.isView(payload) ? (payload as ArrayBuffer).byteLength : 0;
    const timeoutMs = this.options.timeoutMs(bytes);
    const timer = setTimeout(() => this.abortController.abort(new Error(`no answer within ${+(timeoutMs / 1000).toFixed(1)} s`)), timeoutMs);
    const stopWatching = abortOnCoverageReturn(this.abortController);
    try {
      this.options.onSent?.(bytes);
      const response = await (this.options.fetch ?? fetch)(this.url, {
        method: this.method, headers: this.headers, ...(payload !== undefined ? { body: payload } : {}), signal: this.abortController.signal,
        // The server's answer is what counts: never a cached one.
        cache: 'no-store',
      });
      const text = this.method === 'HEAD' ? '' : await response.text();
      return new FetchResponse(response, text);
    } catch (error) {
      if (this.abortController.signal.aborted && this.abortController.signal.reason instanceof Error) throw this.abortController.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      stopWatching();
    }
  }

  async abort(): Promise<void> {
    this.abortController.abort(new Error('aborted'));
  }

  getUnderlyingObject(): unknown {
    return this.abortController;
  }
}

class FetchResponse implements HttpResponse {
  constructor(private readonly response: Response, private readonly body: string) {}

  getStatus(): number {
    return this.response.status;
  }

  getHeader(header: string): string | undefined {
    return this.response.headers.get(header) ?? undefined;
  }

  getBody(): string {
    return this.body;
  }

  getUnderlyingObject(): unknown {
    return this.response;
  }
}

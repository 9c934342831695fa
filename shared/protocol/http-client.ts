/**
 * The one HTTP client of the device: the sync library (client/sync), the apps' sign-in and
 * session code (client/ui) and the service worker's queue (sw/) all talk to the server through
 * it. It owns what every call has in common: the URL (from `paths.ts`, below the server's
 * origin), the bearer token, JSON bodies, and reading the one error shape (`ErrorBody`).
 *
 * Two layers, because callers differ in what a refusal means to them: `send` answers with the
 * raw `Response` whatever its status (the queue reads 401, 409, 413 and 426 differently and
 * needs the exact text); `json` throws an `ApiError` for anything but a 2xx and parses the body.
 * Neither retries: whether a call is safe to repeat is the caller's to know.
 */
import type { ErrorBody, ErrorDetail } from './bodies.ts';
import { bearer, HEADERS, JSON_CONTENT_TYPE } from './headers.ts';
import { pathOf, type Endpoint, type ParamsOf } from './paths.ts';

export type TokenSource = () => string | Promise<string>;

export interface ApiClientOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8080`; empty for the apps the server serves itself (same origin). */
  serverUrl?: string;
  /** The access token every call carries unless it says otherwise; none: calls go without one. */
  token?: TokenSource;
  /** Injected in tests (a gated or counting fetch); the global `fetch` otherwise. */
  fetch?: typeof fetch;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions<Route extends string> {
  params?: Record<ParamsOf<Route>, string | number>;
  query?: Query;
  /** Sent as JSON (`content-type: application/json`). */
  json?: unknown;
  /** Sent as is (already serialised or compressed); set its headers yourself. */
  body?: BodyInit;
  headers?: Record<string, string>;
  /** This call's token instead of the client's (`false`: none, e.g. signing in). */
  token?: string | false;
  signal?: AbortSignal;
}

/** The server refused a call: its HTTP status and the `ErrorBody`'s code, message and details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** An `ErrorCode`, or `HTTP_<status>` when the answer was not the server's JSON (a proxy's page, say). */
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The error an answer carries; for an answer that is not our JSON, one made from its status. */
export function apiErrorOf(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string') {
      return new ApiError(status, body.error.code, body.error.message, body.error.details);
    }
  } catch {
    // Not our JSON error (a proxy, say): the status line is all we have.
  }
  return new ApiError(status, `HTTP_${status}`, `The server answered ${status}.`);
}

/** Reads a refused answer's error (consumes the body). */
export async function readApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  return apiErrorOf(response.status, text);
}

export class ApiClient {
  private readonly fetchImpl: typeof fetch;
  private readonly origin: string;

  constructor(private readonly options: ApiClientOptions = {}) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.origin = (options.serverUrl ?? '').replace(/\/$/, '');
  }

  /** The absolute (or, same-origin, root-relative) URL of one call. */
  url<Route extends string>(endpoint: Endpoint<Route>, params?: Record<ParamsOf<Route>, string | number>, query?: Query): string {
    const path = (pathOf as (e: Endpoint, p?: Record<string, string | number>) => string)(endpoint, params);
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(name, String(value));
    const qs = search.toString();
    return this.origin + path + (qs ? `?${qs}` : '');
  }

  /** One call; the raw answer whatever its status. Throws only when no answer came (offline, aborted). */
  async send<Route extends string>(endpoint: Endpoint<Route>, options: CallOptions<Route> = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? await this.options.token?.() : options.token;
    if (token) headers[HEADERS.authorization] = bearer(token);
    let body = options.body;
    if (options.json !== undefined) {
      headers[HEADERS.contentType] = JSON_CONTENT_TYPE;
      body = JSON.stringify(options.json);
    }
    return this.fetchImpl(this.url(endpoint, options.params, options.query), {
      method: endpoint.method, headers, ...(body !== undefined ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** One call whose answer is JSON: parsed, or an `ApiError` for anything but a 2xx. */
  async json<T, Route extends string = string>(endpoint: Endpoint<Route>, options: CallOptions<Route> = {}): Promise<T> {
    const response = await this.send(endpoint, options);
    if (!response.ok) throw await readApiError(response);
    return (await response.json()) as T;
  }
}

import type { Checkpoint, ErrorBody, PullResponse, PushRow } from '../../shared/protocol/index.ts';
import { SCHEMA_VERSION_PARAM, SYNC_BASE_PATH } from '../../shared/protocol/index.ts';

export type TokenSource = () => string | Promise<string>;

/** A sync request the server refused; `status` 426 means the app must be updated. */
export class SyncHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface TransportOptions {
  serverUrl: string;
  getToken: TokenSource;
  fetch?: typeof fetch;
}

/** The HTTP half of the wire protocol (docs/protocol.md): pull and push for one collection. */
export class SyncTransport {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TransportOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async pull<Doc>(collection: string, schemaVersion: number, checkpoint: Checkpoint | undefined, limit: number): Promise<PullResponse<Doc>> {
    const query = new URLSearchParams({ limit: String(limit), [SCHEMA_VERSION_PARAM]: String(schemaVersion) });
    if (checkpoint) query.set('checkpoint', JSON.stringify(checkpoint));
    const response = await this.request(`${SYNC_BASE_PATH}/${collection}/pull?${query}`, { method: 'GET' });
    return (await response.json()) as PullResponse<Doc>;
  }

  async push<Doc>(collection: string, schemaVersion: number, rows: PushRow<Doc>[]): Promise<Doc[]> {
    const query = new URLSearchParams({ [SCHEMA_VERSION_PARAM]: String(schemaVersion) });
    const response = await this.request(`${SYNC_BASE_PATH}/${collection}/push?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rows),
    });
    return (await response.json()) as Doc[];
  }

  /** Which of these held documents the caller may no longer read (docs/protocol.md, scope checks). */
  async outOfScope(collection: string, schemaVersion: number, ids: string[]): Promise<string[]> {
    const query = new URLSearchParams({ [SCHEMA_VERSION_PARAM]: String(schemaVersion) });
    const response = await this.request(`${SYNC_BASE_PATH}/${collection}/out-of-scope?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids }),
    });
    return ((await response.json()) as { outOfScope: string[] }).outOfScope;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const token = await this.options.getToken();
    const response = await this.fetchImpl(this.options.serverUrl.replace(/\/$/, '') + path, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` },
    });
    if (!response.ok) {
      let code = 'HTTP_' + response.status;
      let message = `The server answered ${response.status}.`;
      try {
        const body = (await response.json()) as ErrorBody;
        code = body.error.code;
        message = body.error.message;
      } catch {
        // Not our JSON error (a proxy, say): the status line is all we have.
      }
      throw new SyncHttpError(response.status, code, message);
    }
    return response;
  }
}

import {
  ApiClient, SYNC, SYNC_QUERY, type Checkpoint, type OutOfScopeRequest, type OutOfScopeResponse, type PullResponse, type PushRow, type TokenSource,
} from '../../shared/protocol/index.ts';

export type { TokenSource };

export interface TransportOptions {
  serverUrl: string;
  getToken: TokenSource;
  fetch?: typeof fetch;
}

/**
 * The sync routes of the wire protocol (docs/protocol.md §7–8) for RxDB's replication: pull,
 * push and scope checks for one collection, over the device's one HTTP client. A refusal throws
 * `ApiError` (`status` 426: the app must be updated).
 */
export class SyncTransport {
  private readonly api: ApiClient;

  constructor(options: TransportOptions) {
    this.api = new ApiClient({ serverUrl: options.serverUrl, token: options.getToken, ...(options.fetch ? { fetch: options.fetch } : {}) });
  }

  async pull<Doc>(collection: string, schemaVersion: number, checkpoint: Checkpoint | undefined, limit: number): Promise<PullResponse<Doc>> {
    return this.api.json<PullResponse<Doc>>(SYNC.pull, {
      params: { collection },
      query: { [SYNC_QUERY.limit]: limit, [SYNC_QUERY.schemaVersion]: schemaVersion, ...(checkpoint ? { [SYNC_QUERY.checkpoint]: JSON.stringify(checkpoint) } : {}) },
    });
  }

  async push<Doc>(collection: string, schemaVersion: number, rows: PushRow<Doc>[]): Promise<Doc[]> {
    return this.api.json<Doc[]>(SYNC.push, { params: { collection }, query: { [SYNC_QUERY.schemaVersion]: schemaVersion }, json: rows });
  }

  /** Which of these held documents the caller may no longer read (docs/protocol.md, scope checks). */
  async outOfScope(collection: string, schemaVersion: number, ids: string[]): Promise<string[]> {
    const answer = await this.api.json<OutOfScopeResponse>(SYNC.outOfScope, {
      params: { collection }, query: { [SYNC_QUERY.schemaVersion]: schemaVersion }, json: { ids } satisfies OutOfScopeRequest,
    });
    return answer.outOfScope;
  }
}

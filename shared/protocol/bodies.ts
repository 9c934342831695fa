/** Request and answer bodies of the HTTP API (docs/protocol.md §3, §7, §8, §13). */
import type { ErrorCode } from './errors.ts';
import type { Identity } from './identity.ts';

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

/** `POST …/out-of-scope`. */
export interface OutOfScopeRequest {
  ids: string[];
}
export interface OutOfScopeResponse {
  outOfScope: string[];
}

export interface ErrorDetail {
  index?: number;
  id?: string;
  path?: string;
  message: string;
}

export interface ErrorBody {
  error: {
    /** An `ErrorCode`; typed `string` so a device reads a code a newer server adds without failing. */
    code: ErrorCode | (string & {});
    message: string;
    /** Per document or field problems, when the error is about the request's content. */
    details?: ErrorDetail[];
  };
  requestId: string;
}

/** `POST /api/auth/login`. */
export interface LoginRequest {
  tenantId: string;
  username: string;
  password: string;
  deviceId: string;
}
/** `POST /api/auth/refresh`. */
export interface RefreshRequest {
  refreshToken: string;
  deviceId: string;
}
/** `POST /api/auth/logout`: the access token in the header, or the refresh token here. */
export interface LogoutRequest {
  refreshToken?: string;
}
/** The token pair login and refresh answer with. */
export interface TokenAnswer {
  accessToken: string;
  refreshToken?: string;
  tokenType?: 'Bearer';
  /** Seconds. */
  expiresIn?: number;
  /** ISO 8601. */
  expiresAt?: string;
  user?: Record<string, unknown>;
}
/** `GET /api/auth/me`. */
export interface MeResponse {
  identity: Identity;
  expiresAt?: string;
}

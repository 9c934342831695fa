import type { FastifyBaseLogger } from 'fastify';
import type { Actor, OutboxEntry, Store, WireDocument } from '../store/types.ts';

/** A committed change as hooks see it: the new version, the one it replaced, and who wrote it. */
export interface Change {
  collection: string;
  tenantId: string;
  id: string;
  seq: number;
  /** Server clock when the change was committed (for the call history's times, never for order). */
  committedAt?: number;
  before: WireDocument | undefined;
  after: WireDocument;
  actor: Actor;
}

/** What an outbox entry carries: which change caused it, plus the workflow's own data. */
export interface HookPayload {
  collection: string;
  id: string;
  seq: number;
  data?: Record<string, unknown>;
}

export interface WorkflowTrigger {
  collection: string;
  /** Whether this change starts the workflow. Runs inside the write transaction: keep it pure and fast. */
  when(change: Change): boolean;
  /**
   * The deterministic part of the outbox key. The same key never runs twice, so a replayed or
   * duplicated change cannot repeat the effect (e.g. `epcr:<id>`: once per report).
   */
  key(change: Change): string;
  data?(change: Change): Record<string, unknown>;
}

export interface Workflow {
  /** Also the outbox entry kind and the metrics label. */
  name: string;
  description: string;
  trigger: WorkflowTrigger;
  run(context: EffectContext, payload: HookPayload): Promise<void>;
}

export interface WriteEffect {
  /** The document's deterministic id. */
  id: string;
  /**
   * Returns the new state from the current one, or undefined when nothing needs to change
   * (which is what makes a re-run after a crash a no-op).
   */
  build(current: WireDocument | undefined): WireDocument | undefined;
}

export interface EffectContext {
  readonly store: Store;
  readonly tenantId: string;
  /** `<collection>/<id>@<seq>` of the change that started this effect. */
  readonly causationId: string;
  readonly log: FastifyBaseLogger;
  readonly entry: OutboxEntry;
  getDocument(collection: string, id: string): Promise<WireDocument | undefined>;
  /** Writes through the store as actor `hook`; the write's own triggers run in its transaction. */
  write(collection: string, effect: WriteEffect): Promise<WireDocument | undefined>;
  now(): Date;
}

import type { Actor, OutboxEntryInput, WrittenChange } from './types.ts';

/**
 * Decides which outbox entries a write adds (hook triggers, CAD notices). The store is opened
 * with one and asks it on every document write, inside the write's transaction, so the change and
 * its entries commit together and no writer can forget them (a writer that did would silently
 * skip every hook). The hooks' WorkflowRegistry is the product's planner; the store knows only
 * this interface, not the hooks.
 */
export interface OutboxPlanner {
  /**
   * Entries for the written changes of one batch (never called for a batch that wrote nothing).
   * Runs inside the write transaction: throwing rolls the whole batch back.
   */
  outboxFor(collection: string, actor: Actor, changes: WrittenChange[]): OutboxEntryInput[];
}

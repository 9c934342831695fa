import type { OutboxPlanner } from '../store/types.ts';
import type { Actor, OutboxEntryInput, WireDocument, WrittenChange } from '../store/types.ts';
import type { Change, HookPayload, Workflow } from './types.ts';

/**
 * Turns a committed change into entries for another outbox queue (e.g. CAD notices), in the
 * same transaction, so they are as durable and as ordered as the change itself.
 */
export type ChangeMapper = (change: Change) => OutboxEntryInput[];

/**
 * The typed registry of workflows. Adding a workflow is one file that exports a `Workflow` and
 * one line in the list it is registered from. It is the store's outbox planner: every write asks it
 * for the entries of what it wrote, in the write's transaction.
 */
export class WorkflowRegistry implements OutboxPlanner {
  private readonly byName = new Map<string, Workflow>();
  private readonly byCollection = new Map<string, Workflow[]>();
  private readonly mappers = new Map<string, ChangeMapper[]>();

  constructor(workflows: readonly Workflow[] = []) {
    for (const workflow of workflows) this.register(workflow);
  }

  register(workflow: Workflow): void {
    if (this.byName.has(workflow.name)) throw new Error(`workflow ${workflow.name} is registered twice`);
    this.byName.set(workflow.name, workflow);
    const list = this.byCollection.get(workflow.trigger.collection) ?? [];
    list.push(workflow);
    this.byCollection.set(workflow.trigger.collection, list);
  }

  addMapper(collection: string, mapper: ChangeMapper): void {
    const list = this.mappers.get(collection) ?? [];
    list.push(mapper);
    this.mappers.set(collection, list);
  }

  get(name: string): Workflow | undefined {
    return this.byName.get(name);
  }

  /** Whether a commit to this collection can have added hook entries (the GPS stream usually cannot). */
  watches(collection: string): boolean {
    return (this.byCollection.get(collection)?.length ?? 0) > 0;
  }

  list(): Workflow[] {
    return [...this.byName.values()];
  }

  /** Outbox entries for written changes; called inside the write transaction. */
  outboxFor(collection: string, actor: Actor, changes: WrittenChange[]): OutboxEntryInput[] {
    const workflows = this.byCollection.get(collection) ?? [];
    const mappers = this.mappers.get(collection) ?? [];
    if (workflows.length === 0 && mappers.length === 0) return [];
    const entries: OutboxEntryInput[] = [];
    for (const written of changes) {
      const change: Change = {
        collection, tenantId: written.after.tenantId, id: written.after.id, seq: written.after.seq, committedAt: written.after.committedAt,
        before: written.before ? (JSON.parse(written.before.json) as WireDocument) : undefined,
        after: written.afterDoc ?? (JSON.parse(written.after.json) as WireDocument),
        actor,
      };
      for (const workflow of workflows) {
        if (!workflow.trigger.when(change)) continue;
        const data = workflow.trigger.data?.(change);
        const payload: HookPayload = { collection, id: change.id, seq: change.seq, ...(data ? { data } : {}) };
        entries.push({
          key: `${workflow.name}:${change.tenantId}:${workflow.trigger.key(change)}`,
          kind: workflow.name,
          tenantId: change.tenantId,
          payload,
          causationId: `${collection}/${change.id}@${change.seq}`,
        });
      }
      for (const mapper of mappers) entries.push(...mapper(change));
    }
    return entries;
  }
}

import type { OutboxPlanner } from './types.ts';

/** The planner a store keeps when given `next`: one per store, so a second, different one is a wiring mistake. */
export function checkedPlanner(current: OutboxPlanner | undefined, next: OutboxPlanner): OutboxPlanner {
  if (current !== undefined && current !== next) {
    throw new Error('this store already plans its outbox with another planner: a store serves one server; open a store for each');
  }
  return next;
}

import type { JsonDoc, Op, Path, PathSegment } from './api.ts';

/**
 * Applies field-level changes to a document copy. Lists of items with an `id` (vitals,
 * medications, procedures) are addressed by that id, never by index, so two devices editing
 * different items merge cleanly (shared/merge keys such lists by id too).
 */
export function applyOps<T extends JsonDoc>(doc: T, ops: readonly Op[]): T {
  const copy = structuredClone(doc) as JsonDoc;
  for (const op of ops) {
    switch (op.op) {
      case 'set':
        if (op.value === undefined || op.value === null || op.value === '') unset(copy, op.path);
        else setAt(copy, op.path, op.value);
        break;
      case 'unset':
        unset(copy, op.path);
        break;
      case 'append': {
        const list = containerAt(copy, op.path, true) as unknown[];
        list.push(structuredClone(op.value));
        break;
      }
      case 'removeItem': {
        const list = containerAt(copy, op.path, false) as unknown[] | undefined;
        if (!Array.isArray(list)) break;
        const index = list.findIndex((item) => isItem(item, op.itemId));
        if (index >= 0) list.splice(index, 1);
        if (list.length === 0) unset(copy, op.path);
        break;
      }
    }
  }
  return copy as T;
}

function isItem(item: unknown, id: string): boolean {
  return typeof item === 'object' && item !== null && (item as { id?: unknown }).id === id;
}

function step(container: unknown, segment: PathSegment): unknown {
  if (typeof segment === 'string') return (container as JsonDoc | undefined)?.[segment];
  return Array.isArray(container) ? container.find((item) => isItem(item, segment.id)) : undefined;
}

/** The list at `path`, created (as an empty list, with missing parents as objects) when asked. */
function containerAt(doc: JsonDoc, path: Path, create: boolean): unknown {
  let node: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    let next = step(node, segment);
    if (next === undefined) {
      if (!create || typeof segment !== 'string') return undefined;
      next = i === path.length - 1 ? [] : {};
      (node as JsonDoc)[segment] = next;
    }
    node = next;
  }
  return node;
}

function setAt(doc: JsonDoc, path: Path, value: unknown): void {
  if (path.length === 0) throw new Error('cannot replace a whole document');
  let node: unknown = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    let next = step(node, segment);
    if (next === undefined || next === null || typeof next !== 'object') {
      if (typeof segment !== 'string') throw new Error(`no list item ${segment.id}`);
      next = {};
      (node as JsonDoc)[segment] = next;
    }
    node = next;
  }
  const last = path[path.length - 1]!;
  if (typeof last !== 'string') throw new Error('a path must end in a field name');
  (node as JsonDoc)[last] = structuredClone(value);
}

/** Removes the field and then every parent object left empty (the schema has no empty sections). */
function unset(doc: JsonDoc, path: Path): void {
  const chain: unknown[] = [doc];
  for (let i = 0; i < path.length - 1; i++) {
    const next = step(chain[chain.length - 1], path[i]!);
    if (next === undefined || next === null || typeof next !== 'object') return;
    chain.push(next);
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const parent = chain[i] as JsonDoc;
    const segment = path[i]!;
    if (typeof segment !== 'string') return;
    if (i === path.length - 1) delete parent[segment];
    else {
      const child = parent[segment];
      const empty = Array.isArray(child) ? child.length === 0 : typeof child === 'object' && child !== null && Object.keys(child).length === 0;
      if (!empty) return;
      delete parent[segment];
    }
    if (i > 0 && Array.isArray(chain[i - 1])) return; // never remove a list item by emptying it
  }
}

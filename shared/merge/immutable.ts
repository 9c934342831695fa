import type { MergeFunction } from './three-way.ts';

/**
 * For insert-only documents such as GPS fixes: a fix is never edited after it was recorded,
 * so two states of one can only differ by accident, and the server's copy is the fix.
 */
export const mergeImmutable: MergeFunction = ({ master }) => master;

import { createHash } from 'node:crypto';

/**
 * A UUID in version-4 form derived from a name, so that the same effect always gets the same
 * document id (the billing record of report X is one record, however often X is replayed).
 * Version-4 form because the schemas and NEMSIS accept only that shape.
 */
export function deterministicId(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x40;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

import { agencyTagSource, derivedIds, derivedUuid, idSource } from '../../shared/domain/ids.ts';

/** Random UUID v4 (lower case), as every document id must be. */
export function uuid(): string {
  return crypto.randomUUID();
}

/**
 * The shared id recipe (shared/domain/ids.ts) over WebCrypto's SHA-256, which is async: the
 * device derives the same ids the server's hooks and CAD bridge do.
 */
async function derivedId(parts: readonly string[]): Promise<string> {
  const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  // The agency is the second part of every recipe (ID_RECIPES).
  return derivedUuid(await sha256(agencyTagSource(parts[1] ?? '')), await sha256(idSource(parts)));
}

/** The ids the server derives too (a unit, a CAD incident, the stub ePCR): `deviceIds.unitIdFor(tenant, 'M1')`. */
export const deviceIds = derivedIds(derivedId);

/** A short id for list items (vitals, medications): unique within the document. */
export function itemId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

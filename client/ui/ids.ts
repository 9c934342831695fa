/** Random UUID v4 (lower case), as every document id must be. */
export function uuid(): string {
  return crypto.randomUUID();
}

/**
 * The same derived id the server's hooks and CAD bridge make (`server/hooks/ids.ts`): SHA-256 of
 * the parts joined by NUL, shaped as a UUID v4. A unit the MDT registers and the same unit
 * arriving from CAD are then one document, and so is an ePCR the crew starts before the
 * server's stub arrives.
 */
export async function deterministicId(...parts: string[]): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\u0000'))));
  digest[6] = (digest[6]! & 0x0f) | 0x40;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = [...digest.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const unitIdFor = (tenantId: string, callSign: string) => deterministicId('unit', tenantId, callSign);
export const incidentIdFor = (tenantId: string, incidentNumber: string) => deterministicId('cad-incident', tenantId, incidentNumber);
export const stubEpcrIdFor = (tenantId: string, incidentId: string, unitId: string) => deterministicId('epcr-stub', tenantId, incidentId, unitId);

/** A short id for list items (vitals, medications): unique within the document. */
export function itemId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

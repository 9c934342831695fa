/**
 * Derived ids: the one recipe by which the device and the server name the same thing with the
 * same id, so that a unit the MDT registers and the same unit arriving from CAD are one
 * document, and so is an ePCR a crew starts before the server's stub arrives; and so that a
 * hook's effect replayed any number of times writes one document (the billing record of report
 * X is one record).
 *
 * The recipe: SHA-256 of the parts joined by NUL, the first 16 bytes shaped as a UUID version 4
 * (the schemas and NEMSIS accept only that shape). Each side brings its own SHA-256 (Node's
 * crypto on the server, WebCrypto on the device, which is async); the rest is here, once.
 */

/** What is hashed: the parts, joined by NUL, as UTF-8. */
export function idSource(parts: readonly string[]): Uint8Array {
  return new TextEncoder().encode(parts.join('\u0000'));
}

/** A SHA-256 digest shaped as a lower-case UUID v4. */
export function uuidFromDigest(digest: Uint8Array): string {
  if (digest.length < 16) throw new Error(`a derived id needs a digest of at least 16 bytes, got ${digest.length}`);
  const bytes = Uint8Array.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The parts of each id both sides derive. Server-only effects (FHIR bundles, CAD GPS points)
 * pass their own parts to `deterministicId`; anything a device may also create is named here.
 */
export const ID_RECIPES = {
  /** A unit by call sign: the MDT's registration and CAD's unit are one document. */
  unit: (tenantId: string, callSign: string) => ['unit', tenantId, callSign],
  /** A CAD incident by its number. */
  incident: (tenantId: string, incidentNumber: string) => ['cad-incident', tenantId, incidentNumber],
  /** The ePCR the CAD stub creates for one unit on one incident; the crew's tablet adopts this id. */
  stubEpcr: (tenantId: string, incidentId: string, unitId: string) => ['epcr-stub', tenantId, incidentId, unitId],
  billingRecord: (tenantId: string, epcrId: string) => ['billing', tenantId, epcrId],
  claim: (tenantId: string, billingId: string) => ['claim', tenantId, billingId],
  correctionClaim: (tenantId: string, addendumId: string) => ['claim-correction', tenantId, addendumId],
  ticket: (tenantId: string, orderId: string) => ['ticket', tenantId, orderId],
  job: (tenantId: string, ticketId: string) => ['job', tenantId, ticketId],
} as const satisfies Record<string, (...args: string[]) => string[]>;

/**
 * The ids a device derives as well as the server, over either side's SHA-256 (`derive` gets the
 * parts; the device's is async, so its ids are promises). One set of named recipes for both.
 */
export function derivedIds<Id>(derive: (parts: readonly string[]) => Id) {
  return {
    unitIdFor: (tenantId: string, callSign: string): Id => derive(ID_RECIPES.unit(tenantId, callSign)),
    incidentIdFor: (tenantId: string, incidentNumber: string): Id => derive(ID_RECIPES.incident(tenantId, incidentNumber)),
    stubEpcrIdFor: (tenantId: string, incidentId: string, unitId: string): Id => derive(ID_RECIPES.stubEpcr(tenantId, incidentId, unitId)),
  };
}

/**
 * Derived ids: the one recipe by which the device and the server name the same thing with the
 * same id, so that a unit the MDT registers and the same unit arriving from CAD are one
 * document, and so is an ePCR a crew starts before the server's stub arrives; and so that a
 * hook's effect replayed any number of times writes one document (the billing record of report
 * X is one record).
 *
 * The recipe, shaped as a UUID version 4 (the schemas and NEMSIS accept only that shape):
 * - bytes 0-2: the agency's tag, the first 3 bytes of SHA-256("fieldsync-agency" NUL agency);
 * - bytes 3-5 and 7: the mark of a derived id (`DERIVED_ID_MARK`);
 * - the other 66 free bits: SHA-256 of the parts joined by NUL (the agency is one of them).
 * So every derived id says which agency it was made for, and push refuses a device that creates
 * a document under an id made for another agency (issue 17: ids were plain hashes of agency and
 * incident number, so another agency could create them first, and the victim's CAD incident or
 * unit then failed to be written: "belongs to another tenant"). A random UUID carries the mark by
 * chance once in 2^32.
 * Each side brings its own SHA-256 (Node's crypto on the server, WebCrypto on the device, which
 * is async); the rest is here, once.
 */

/** What is hashed: the parts, joined by NUL, as UTF-8. */
export function idSource(parts: readonly string[]): Uint8Array {
  return new TextEncoder().encode(parts.join('\u0000'));
}

/** What is hashed for an agency's tag. */
export function agencyTagSource(tenantId: string): Uint8Array {
  return idSource(['fieldsync-agency', tenantId]);
}

/** Bytes 3, 4, 5 and 7 of every derived id. */
export const DERIVED_ID_MARK = [0xf5, 0x1d, 0x5c, 0x1d] as const;

function hexOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** An agency's tag (6 hex digits) from the SHA-256 digest of `agencyTagSource`. */
export function agencyTagFromDigest(digest: Uint8Array): string {
  if (digest.length < 3) throw new Error(`an agency tag needs a digest of at least 3 bytes, got ${digest.length}`);
  return hexOf(digest.subarray(0, 3));
}

/**
 * A derived id from the agency's digest (`agencyTagSource`) and the parts' digest (`idSource`),
 * both SHA-256, as a lower-case UUID v4.
 */
export function derivedUuid(agencyDigest: Uint8Array, partsDigest: Uint8Array): string {
  if (agencyDigest.length < 3 || partsDigest.length < 16) throw new Error('a derived id needs two SHA-256 digests');
  const bytes = Uint8Array.from(partsDigest.subarray(0, 16));
  bytes.set(agencyDigest.subarray(0, 3), 0);
  bytes[3] = DERIVED_ID_MARK[0];
  bytes[4] = DERIVED_ID_MARK[1];
  bytes[5] = DERIVED_ID_MARK[2];
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[7] = DERIVED_ID_MARK[3];
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = hexOf(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The mark as it reads in an id's text: "xxxxxxf5-1d5c-4x1d-…". */
const MARK_TEXT = { at6: 'f5', at9: '1d5c', at16: '1d' } as const;

/**
 * The tag of the agency a derived id was made for; undefined for an id that is not derived (a
 * random UUID). Reads the id's text at fixed places: push asks it for every row.
 */
export function derivedIdAgencyTag(id: string): string | undefined {
  if (id.length !== 36 || !id.startsWith(MARK_TEXT.at6, 6) || !id.startsWith(MARK_TEXT.at9, 9) || !id.startsWith(MARK_TEXT.at16, 16)) return undefined;
  const tag = id.slice(0, 6);
  return /^[0-9a-f]{6}$/.test(tag) ? tag : undefined;
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
  /** A sales order by its number: the order system's event and the office's form name one document. */
  order: (tenantId: string, orderNumber: string) => ['order', tenantId, orderNumber],
  ticket: (tenantId: string, orderId: string) => ['ticket', tenantId, orderId],
  job: (tenantId: string, ticketId: string) => ['job', tenantId, ticketId],
} as const satisfies Record<string, (...args: string[]) => string[]>;

/**
 * The ids a device derives as well as the server, over either side's SHA-256 (`derive` gets the
 * parts, the agency second; the device's is async, so its ids are promises). One set of named
 * recipes for both.
 */
export function derivedIds<Id>(derive: (parts: readonly string[]) => Id) {
  return {
    unitIdFor: (tenantId: string, callSign: string): Id => derive(ID_RECIPES.unit(tenantId, callSign)),
    incidentIdFor: (tenantId: string, incidentNumber: string): Id => derive(ID_RECIPES.incident(tenantId, incidentNumber)),
    stubEpcrIdFor: (tenantId: string, incidentId: string, unitId: string): Id => derive(ID_RECIPES.stubEpcr(tenantId, incidentId, unitId)),
    orderIdFor: (tenantId: string, orderNumber: string): Id => derive(ID_RECIPES.order(tenantId, orderNumber)),
  };
}

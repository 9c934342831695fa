/**
 * The JSON floor under every push and pull: encoding and decoding the same documents in the same
 * batches, nothing else. Repeated until at least `minMs` has passed, for a stable rate.
 */
export function rawJsonRates(docs: Record<string, unknown>[], batch: number, minMs = 300): { encodeDocsPerSec: number; decodeDocsPerSec: number; bytesPerDoc: number } {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < docs.length; i += batch) batches.push(docs.slice(i, i + batch));
  let encoded: string[] = [];
  let rounds = 0;
  let start = performance.now();
  do {
    encoded = batches.map((b) => JSON.stringify(b));
    rounds++;
  } while (performance.now() - start < minMs);
  const encodeDocsPerSec = (rounds * docs.length) / ((performance.now() - start) / 1000);
  rounds = 0;
  let sink = 0;
  start = performance.now();
  do {
    for (const text of encoded) sink += (JSON.parse(text) as unknown[]).length;
    rounds++;
  } while (performance.now() - start < minMs);
  const decodeDocsPerSec = (rounds * docs.length) / ((performance.now() - start) / 1000);
  if (sink === 0) throw new Error('nothing decoded');
  const bytes = encoded.reduce((n, t) => n + Buffer.byteLength(t), 0);
  return { encodeDocsPerSec, decodeDocsPerSec, bytesPerDoc: bytes / docs.length };
}

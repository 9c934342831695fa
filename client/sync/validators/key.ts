/**
 * What a validator is looked up by: the schema RxDB hands its storage (its JSON), without the
 * `encrypted` list. That list is a keyword without validation (rxdb/plugins/validate-ajv), so a
 * database opened with a key and one without (tests, tools) validate alike; everything else must
 * be identical, or the validator is compiled at run time as before (precompiled.ts).
 */
export function validatorKey(schema: object): string {
  const { encrypted: _encrypted, ...rest } = schema as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** RxDB's own store (collections, the storage token), written when a database opens: its validator is built in too. */
export const INTERNAL_SCHEMA_NAME = 'rxdb-internal';

/**
 * Derives the server's validation schema from a collection's RxDB schema, so there is one
 * source. RxDB adds `_deleted` itself on devices; on the wire it is a required boolean.
 */
const RXDB_ONLY_KEYWORDS = ['primaryKey', 'version', 'indexes', 'encrypted', 'keyCompression', 'attachments', 'internalIndexes'];

export interface JsonSchemaObject {
  type?: string;
  properties?: Record<string, unknown>;
  required?: readonly string[];
  [key: string]: unknown;
}

export function toWireSchema(rxSchema: JsonSchemaObject): JsonSchemaObject {
  const wire: JsonSchemaObject = {};
  for (const [key, value] of Object.entries(rxSchema)) {
    if (!RXDB_ONLY_KEYWORDS.includes(key)) wire[key] = value;
  }
  wire.properties = { ...(rxSchema.properties ?? {}), _deleted: { type: 'boolean' } };
  wire.required = [...(rxSchema.required ?? []), '_deleted'];
  return wire;
}

export function primaryKeyOf(rxSchema: JsonSchemaObject): string {
  const pk = rxSchema.primaryKey;
  if (typeof pk !== 'string') throw new Error('schema needs a string primaryKey (composite keys are not supported)');
  return pk;
}

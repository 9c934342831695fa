/** build.ts: a loader per schema (`rxdb-internal` and each collection), each module its `key` (key.ts) and its `validate`. */
declare module 'virtual:fieldsync-validators' {
  export const validators: Record<string, () => Promise<{ key: string; validate: import('ajv').ValidateFunction }>>;
}

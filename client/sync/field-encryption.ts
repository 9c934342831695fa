import {
  getPrimaryFieldOfPrimaryKey, hasEncryption, wrapRxStorageInstance, type RxJsonSchema, type RxStorage, type RxStorageInstanceCreationParams,
} from 'rxdb';

/**
 * The fields a schema lists in `encrypted` (the ePCR's PHI, an incident's address, ...) are stored
 * AES-256-GCM encrypted with the database key (non-negotiable 8), by the browser's WebCrypto, all
 * of a document's encrypted fields in one sealed value.
 *
 * Why not RxDB's crypto-js plugin, which stored them before: it encrypts each field on its own in
 * JavaScript and derives a key from the password again for every field it encrypts or decrypts
 * (a random salt each time). RxDB writes a pulled document twice (the document and its
 * replication copy) and reads both back for its change events, so a new tablet's first sync of
 * 2,000 ePCRs spent about 17 s of its database worker's 39 s in crypto-js (bench:browser's
 * profile). Here the key is derived once per opened collection, and a document is one native AES-GCM
 * call, whose tag also refuses a sealed value moved to another document.
 *
 * Stored form: the schema's first encrypted field holds `SEALED_PREFIX` + base64(IV ‖ ciphertext)
 * of the JSON of the document's encrypted fields that are set (`{}` when none is); the other
 * encrypted fields are absent, and `_meta` carries `SEALED_MARK`. A document whose sealed value is
 * missing, empty or garbled is not read (an error names it), never returned without its PHI. Values crypto-js stored (a device that synced with an earlier build: each field on its
 * own, `U2FsdGVkX1…`) are still read, and written back sealed the next time the document changes.
 */
export const SEALED_PREFIX = 'fs1:';

/** How crypto-js's output (base64 of OpenSSL's "Salted__" header) begins: the only values read the legacy way. */
const CRYPTO_JS_PREFIX = 'U2FsdGVkX1';

type LegacyDecrypt = (cipherText: string, password: string) => string;
let legacyModule: Promise<LegacyDecrypt> | undefined;
/**
 * RxDB's crypto-js reader, loaded the first time a value an earlier build stored is read: the
 * library (all of crypto-js) was loaded and run at every start of the database worker, in the
 * time a new tablet waits for its first sync, for values a new device never holds.
 */
function legacyDecrypt(): Promise<LegacyDecrypt> {
  legacyModule ??= import('rxdb/plugins/encryption-crypto-js').then((m) => m.decryptString, (error: unknown) => {
    legacyModule = undefined;
    throw new Error(`the reader of data an earlier version encrypted did not load (${String(error)}); reload the app to read it`);
  });
  return legacyModule;
}

/**
 * Set in the stored `_meta` of every document this build writes: such a document always holds
 * its sealed value (of `{}` when none of its encrypted fields is set), so one without it is
 * damaged and is not read as a document without PHI (whose next save would store it so, for
 * good). Documents an earlier build stored lack the mark: for them no value means no PHI.
 */
const SEALED_MARK = 'fsSealed';

const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The AES key for a database key (HKDF-SHA-256; the database key is 32 random bytes), derived once
 * per storage instance and kept with it only, not extractable: nothing outlives the closed database.
 */
function fieldKey(password: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(password), 'HKDF', false, ['deriveKey']).then((material) => crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode('fieldsync'), info: encoder.encode('device fields v1') },
    material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  ));
}

/**
 * The browser's own base64 (Uint8Array.prototype.toBase64, Chromium 140+) where there is one: the
 * spread into String.fromCharCode and btoa was ~0.8 s of a new tablet's first sync (4,000 ePCR
 * seals: each pulled document and its replication copy), the largest part of sealing.
 */
const nativeBase64 = Uint8Array.prototype as unknown as { toBase64?: () => string };
const nativeFromBase64 = Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array<ArrayBuffer> };

function toBase64(bytes: Uint8Array): string {
  if (typeof nativeBase64.toBase64 === 'function') return (bytes as unknown as { toBase64(): string }).toBase64();
  let binary = '';
  // In chunks: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof nativeFromBase64.fromBase64 === 'function') return nativeFromBase64.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The storage below stores each encrypted field as a string (or not at all): its schema says so. */
function storedSchema(schema: RxJsonSchema<any>): RxJsonSchema<any> {
  const { encrypted, ...rest } = structuredClone(schema) as RxJsonSchema<any> & { encrypted?: string[] };
  for (const field of encrypted ?? []) (rest.properties as Record<string, unknown>)[field] = { type: 'string' };
  if (rest.required) rest.required = (rest.required as string[]).filter((field) => !encrypted?.includes(field)) as never;
  return rest;
}

/** Wraps a storage so that schemas' `encrypted` fields are sealed with the database key (`password`). */
export function wrappedFieldEncryptionStorage<Internals, Options>(args: { storage: RxStorage<Internals, Options> }): RxStorage<Internals, Options> {
  return {
    ...args.storage,
    async createStorageInstance(params: RxStorageInstanceCreationParams<any, Options>) {
      if (!hasEncryption(params.schema)) return args.storage.createStorageInstance(params);
      const password = params.password;
      if (typeof password !== 'string' || !password) {
        throw new Error(`${params.databaseName}/${params.collectionName} has encrypted fields but the database was opened without its key: open it with the key (createFieldsyncDatabase's password).`);
      }
      const fields = params.schema.encrypted!;
      const nested = fields.filter((field) => field.includes('.'));
      if (nested.length) throw new Error(`encrypted fields must be top-level fields of ${params.collectionName}: ${nested.join(', ')}`);
      if (params.schema.attachments?.encrypted) throw new Error(`${params.collectionName}: encrypted RxDB attachments are not supported; store files through the attachment service`);
      const holder = fields[0]!;
      const primary = getPrimaryFieldOfPrimaryKey(params.schema.primaryKey) as string;
      const key = fieldKey(password);
      const instance = await args.storage.createStorageInstance({ ...params, schema: storedSchema(params.schema) });
      // The document's id is authenticated with its fields: a sealed value copied into another document does not open.
      const bound = (doc: Record<string, unknown>) => encoder.encode(String(doc[primary]));

      const unreadable = (doc: Record<string, any>, why: string) => new Error(
        `${params.collectionName} document ${String(doc[primary])} on this device ${why}: it is not read, so that no save writes it back without its protected fields. `
        + 'Its last synced version is on the server: reset this device\'s data (sign out, then sign in and sync again) to get it back.');

      const toStorage = async (doc: Record<string, any>) => {
        const clear: Record<string, unknown> = {};
        const stored: Record<string, any> = { ...doc, _meta: { ...doc['_meta'], [SEALED_MARK]: 1 } };
        for (const field of fields) {
          if (doc[field] === undefined) continue;
          clear[field] = doc[field];
          delete stored[field];
        }
        const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
        const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: bound(doc) }, await key, encoder.encode(JSON.stringify(clear))));
        const out = new Uint8Array(IV_BYTES + sealed.length);
        out.set(iv);
        out.set(sealed, IV_BYTES);
        stored[holder] = SEALED_PREFIX + toBase64(out);
        return stored as never;
      };

      const fromStorage = async (doc: Record<string, any>) => {
        const { [SEALED_MARK]: marked, ...meta } = (doc['_meta'] ?? {}) as Record<string, unknown>;
        const value = doc[holder];
        if (typeof value === 'string' && value.startsWith(SEALED_PREFIX)) {
          let plain: Record<string, unknown>;
          try {
            const bytes = fromBase64(value.slice(SEALED_PREFIX.length));
            const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: bound(doc) }, await key, bytes.subarray(IV_BYTES));
            plain = JSON.parse(decoder.decode(opened)) as Record<string, unknown>;
          } catch {
            throw new Error(`${params.collectionName} document ${String(doc[primary])} does not open with this database's key (damaged, or sealed for another document)`);
          }
          const { [holder]: _sealed, ...rest } = doc;
          return { ...rest, _meta: meta, ...plain } as never;
        }
        if (marked !== undefined) throw unreadable(doc, value === undefined ? 'has lost its sealed fields' : 'has a damaged sealed value');
        // Stored by an earlier build with RxDB's crypto-js plugin: each field on its own, each
        // value crypto-js output (anything else is damage, never read as unauthenticated AES-CBC).
        let out: Record<string, any> | undefined;
        let decryptString: LegacyDecrypt | undefined;
        for (const field of fields) {
          const legacy: unknown = doc[field];
          if (legacy === undefined) continue;
          if (typeof legacy !== 'string' || !legacy.startsWith(CRYPTO_JS_PREFIX)) throw unreadable(doc, `has a damaged ${field} (neither sealed nor an earlier build's encryption)`);
          out ??= { ...doc };
          decryptString ??= await legacyDecrypt();
          try {
            out[field] = JSON.parse(decryptString(legacy, password));
          } catch {
            throw unreadable(doc, `has a ${field} that does not open with this database's key`);
          }
        }
        return (out ?? doc) as never;
      };

      return wrapRxStorageInstance(params.schema, instance as never, toStorage as never, fromStorage as never) as never;
    },
  };
}

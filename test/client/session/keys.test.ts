/**
 * The database key and its wrapping (client/session/keys.ts): PBKDF2 + AES-GCM with WebCrypto, checked
 * locally (offline), bound to user and database; re-wrapped on a password change without touching
 * the data; end to end with an encrypted RxDB database (Dexie on fake-indexeddb).
 */
import { randomUUID } from 'node:crypto';
import 'fake-indexeddb/auto'; // the wrapped key records are kept in IndexedDB (client/session/device-records.ts)
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type { RxStorage } from 'rxdb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFieldsyncDatabase, WrongDatabaseKeyError } from '../../../client/sync/database.ts';
import {
  createKeyRecord, devSecret, devSessionKey, KEY_ITERATIONS, keyAtSignIn, keyForUnlock, keyOwnerOf, loadKeyRecord,
  NoKeyOnDeviceError, openKeyRecord, PasswordChangedError, rewrapKeyRecord, rewrapWithPreviousPassword,
  WrongPasswordError, type KeyOwner,
} from '../../../client/session/keys.ts';
import { DEFAULT_IDLE_MS, idleTimeoutMs, setIdleSetting } from '../../../client/session/lock.ts';
import { isLocalDatabaseOf } from '../../../client/session/erase.ts';
import { databaseNameFor } from '../../../client/session/session.ts';
import type { Session } from '../../../client/session/identity.ts';
import { keepDeviceRecord, readDeviceRecord } from '../../../client/session/device-records.ts';
import { OUTBOX_DB_NAME } from '../../../client/queue/index.ts';

const owner: KeyOwner = { dbName: 'fs_agency_medic_abc', tenantId: 'agency', userId: 'user-1' };
const FAST = 1000; // iterations for the cases that only test the wrapping logic

/** A localStorage for Node. */
function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() { return map.size; },
    clear: () => map.clear(),
    getItem: (k) => map.get(k) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (k) => void map.delete(k),
    setItem: (k, v) => void map.set(k, String(v)),
  };
}

beforeEach(() => {
  vi.stubGlobal('localStorage', memoryStorage());
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('database key wrapping', () => {
  it('derives the wrapping key with PBKDF2-SHA256 at 600,000 iterations (OWASP) and stores the database key only wrapped', async () => {
    const { record, key } = await createKeyRecord('correct horse battery', owner, 'password');
    expect(record).toMatchObject({ v: 1, kind: 'password', kdf: 'PBKDF2-SHA256', iterations: KEY_ITERATIONS });
    expect(KEY_ITERATIONS).toBe(600_000);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const stored = JSON.stringify(record);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain('correct horse battery');
    expect(atob(record.salt)).toHaveLength(16);
    expect(await openKeyRecord(record, 'correct horse battery', owner)).toBe(key);
  });

  it('refuses a wrong password locally (AES-GCM tag), and a record of another user or database', async () => {
    const { record } = await createKeyRecord('right password', owner, 'password', FAST);
    await expect(openKeyRecord(record, 'wrong password', owner)).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(openKeyRecord(record, 'right password', { ...owner, userId: 'user-2' })).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(openKeyRecord(record, 'right password', { ...owner, dbName: 'fs_other' })).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(openKeyRecord({ ...record, wrapped: record.wrapped.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }, 'right password', owner)).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('makes a new random key and salt every time (two devices, same password: different keys)', async () => {
    const a = await createKeyRecord('same password', owner, 'password', FAST);
    const b = await createKeyRecord('same password', owner, 'password', FAST);
    expect(a.key).not.toBe(b.key);
    expect(a.record.salt).not.toBe(b.record.salt);
  });

  it('re-wraps the same key for a new password; the old one no longer opens it', async () => {
    const { record, key } = await createKeyRecord('old password', owner, 'password', FAST);
    const next = await rewrapKeyRecord(record, 'old password', 'new password', owner);
    expect(next.key).toBe(key);
    expect(next.record.iterations).toBe(KEY_ITERATIONS);
    expect(await openKeyRecord(next.record, 'new password', owner)).toBe(key);
    await expect(openKeyRecord(next.record, 'old password', owner)).rejects.toBeInstanceOf(WrongPasswordError);
    await expect(rewrapKeyRecord(record, 'not the old one', 'new password', owner)).rejects.toBeInstanceOf(WrongPasswordError);
  });
});

describe('a signed-in user\'s key on this device', () => {
  const session = (kind: Session['kind'] = 'password'): Session => ({
    kind, accessToken: 'token', user: { tenantId: 'agency', role: 'crew', userId: `u-${randomUUID().slice(0, 6)}`, deviceId: 'tablet-1', unitId: 'M1' },
  });

  it('is made at the first sign-in, then unlocks offline with the same password only', async () => {
    const s = session();
    await expect(keyForUnlock(s, 'pw-one-two-three')).rejects.toBeInstanceOf(NoKeyOnDeviceError);
    const key = await keyAtSignIn(s, 'pw-one-two-three');
    expect(await loadKeyRecord(databaseNameFor(s.user))).toBeDefined();
    expect(await keyForUnlock(s, 'pw-one-two-three')).toBe(key);
    await expect(keyForUnlock(s, 'pw-one-two-four')).rejects.toBeInstanceOf(WrongPasswordError);
    expect(await keyAtSignIn(s, 'pw-one-two-three')).toBe(key);
  });

  it('after a password change, asks for the previous one and keeps the same key (the data needs no re-encryption)', async () => {
    const s = session();
    const key = await keyAtSignIn(s, 'first password');
    await expect(keyAtSignIn(s, 'second password')).rejects.toBeInstanceOf(PasswordChangedError);
    await expect(rewrapWithPreviousPassword(s, 'not it', 'second password')).rejects.toBeInstanceOf(WrongPasswordError);
    expect(await rewrapWithPreviousPassword(s, 'first password', 'second password')).toBe(key);
    expect(await keyForUnlock(s, 'second password')).toBe(key);
    await expect(keyForUnlock(s, 'first password')).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('keeps the wrapped key in IndexedDB; one an earlier version left in localStorage is moved there and still opens', async () => {
    const s = session();
    const dbName = databaseNameFor(s.user);
    const { record, key } = await createKeyRecord('pw-legacy', keyOwnerOf(s), 'password', FAST);
    localStorage.setItem(`fieldsync.dbkey.${dbName}`, JSON.stringify(record));
    expect(await keyForUnlock(s, 'pw-legacy')).toBe(key);
    expect(localStorage.getItem(`fieldsync.dbkey.${dbName}`), 'moved out of localStorage').toBeNull();
    expect(await readDeviceRecord(`fieldsync.dbkey.${dbName}`)).toMatchObject({ kind: 'password', iterations: KEY_ITERATIONS, createdAt: record.createdAt });
    expect(await keyForUnlock(s, 'pw-legacy')).toBe(key);
  });

  it('a key an earlier version wrapped at 210,000 iterations still opens, and the unlock wraps it again at 600,000', async () => {
    const s = session();
    const dbName = databaseNameFor(s.user);
    const { record, key } = await createKeyRecord('pw-older', keyOwnerOf(s), 'password', 210_000);
    await keepDeviceRecord(`fieldsync.dbkey.${dbName}`, record);
    await expect(keyForUnlock(s, 'pw-wrong')).rejects.toBeInstanceOf(WrongPasswordError);
    expect((await loadKeyRecord(dbName))?.iterations, 'a wrong password changes nothing').toBe(210_000);
    expect(await keyForUnlock(s, 'pw-older')).toBe(key);
    const upgraded = (await loadKeyRecord(dbName))!;
    expect(upgraded).toMatchObject({ iterations: 600_000, kdf: 'PBKDF2-SHA256' });
    expect(upgraded.salt).not.toBe(record.salt);
    expect(await openKeyRecord(upgraded, 'pw-older', keyOwnerOf(s))).toBe(key);
    // Signing in (online) upgrades the same way.
    const t = session();
    const older = await createKeyRecord('pw-sign-in', keyOwnerOf(t), 'password', 210_000);
    await keepDeviceRecord(`fieldsync.dbkey.${databaseNameFor(t.user)}`, older.record);
    expect(await keyAtSignIn(t, 'pw-sign-in')).toBe(older.key);
    expect((await loadKeyRecord(databaseNameFor(t.user)))?.iterations).toBe(600_000);
  });

  it('developer sessions derive theirs from the token\'s subject and device (no protection: development only)', async () => {
    const s = session('dev');
    const key = await devSessionKey(s);
    expect(await devSessionKey(s)).toBe(key);
    expect(devSecret(s.user)).toContain(s.user.userId);
    expect((await loadKeyRecord(databaseNameFor(s.user)))?.kind).toBe('dev');
  });

  it('opens the encrypted database; a wrong password never gets a key, and a wrong key never opens it', async () => {
    const s = session();
    const dbName = `lock_${randomUUID().slice(0, 8)}`;
    const storage = getRxStorageDexie({ indexedDB, IDBKeyRange } as never) as RxStorage<unknown, unknown>;
    const key = await keyAtSignIn(s, 'tablet password');
    const db = await createFieldsyncDatabase({ name: dbName, collections: ['epcrs'], storage, multiInstance: false, password: key });
    await db.collections['epcrs']!.insert({ id: randomUUID(), tenantId: 'agency', rev: '1-dev.a', status: 'draft', unitId: 'M1', patient: { lastName: 'Okonkwo' } });
    await db.close();

    await expect(keyForUnlock(s, 'tablet pasword')).rejects.toBeInstanceOf(WrongPasswordError);
    const other = await createKeyRecord('tablet password', { ...owner, dbName }, 'password', FAST);
    await expect(createFieldsyncDatabase({ name: dbName, collections: ['epcrs'], storage, multiInstance: false, password: other.key })).rejects.toBeInstanceOf(WrongDatabaseKeyError);

    const again = await createFieldsyncDatabase({ name: dbName, collections: ['epcrs'], storage, multiInstance: false, password: await keyForUnlock(s, 'tablet password') });
    expect((await again.collections['epcrs']!.find().exec())[0]?.toJSON()).toMatchObject({ patient: { lastName: 'Okonkwo' } });
    await again.close();
  });

  it('gives encrypted databases their own names (a copy left unencrypted by an earlier version is not reused)', () => {
    const user = { tenantId: 'agency', role: 'crew' as const, userId: 'medic', deviceId: 'tablet-1' };
    expect(databaseNameFor(user)).toMatch(/^fs_agency_medic_[0-9a-z]+$/);
    expect(databaseNameFor(user)).not.toBe(databaseNameFor({ ...user, deviceId: 'tablet-2' }));
  });
});

describe('automatic logoff timing', () => {
  it('defaults to 15 minutes; the setting and ?idle= can only shorten it', () => {
    vi.stubGlobal('location', { search: '' });
    expect(idleTimeoutMs()).toBe(DEFAULT_IDLE_MS);
    expect(DEFAULT_IDLE_MS).toBe(15 * 60_000);
    setIdleSetting(5 * 60_000);
    expect(idleTimeoutMs()).toBe(5 * 60_000);
    setIdleSetting(60 * 60_000);
    expect(idleTimeoutMs()).toBe(DEFAULT_IDLE_MS);
    vi.stubGlobal('location', { search: '?idle=2000' });
    expect(idleTimeoutMs()).toBe(2000);
    vi.stubGlobal('location', { search: '?idle=99999999' });
    expect(idleTimeoutMs()).toBe(DEFAULT_IDLE_MS);
    vi.stubGlobal('location', { search: '?idle=5' });
    expect(idleTimeoutMs()).toBe(1000);
  });
});

describe('erasing', () => {
  it('matches exactly the IndexedDB databases RxDB made for one local database', () => {
    const db = 'fs_agency_medic_1x2y';
    expect(isLocalDatabaseOf(db, `rxdb-dexie-${db}--0--epcrs`)).toBe(true);
    expect(isLocalDatabaseOf(db, `rxdb-dexie-${db}--0--_rxdb_internal`)).toBe(true);
    expect(isLocalDatabaseOf(db, `rxdb-dexie-${db}--0--rx-replication-meta-abc123`)).toBe(true);
    expect(isLocalDatabaseOf(db, `rxdb-dexie-${db}2--0--epcrs`)).toBe(false);
    expect(isLocalDatabaseOf(db, `rxdb-dexie-${db}--x--epcrs`)).toBe(false);
    expect(isLocalDatabaseOf(db, OUTBOX_DB_NAME)).toBe(false);
  });
});

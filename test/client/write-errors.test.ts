/**
 * Refused local writes carry their kind to the page (client/worker/write-errors.ts), from the
 * errors RxDB really throws: a second record with an existing id (the duplicate incident number
 * of issue 14, defect 8) and a value the schema refuses, on insert and on update.
 */
import { randomUUID } from 'node:crypto';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { createFieldsyncDatabase } from '../../client/sync/database.ts';
import { DocumentWriter } from '../../client/sync/writes.ts';
import { describeWriteError } from '../../client/ui/action.tsx';
import { refusedWrite } from '../../client/worker/write-errors.ts';

describe('refused local writes', () => {
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.close();
  });

  async function writer() {
    const db = await createFieldsyncDatabase({ name: `w${randomUUID().slice(0, 8)}`, collections: ['incidents'], storage: getRxStorageMemory(), multiInstance: false });
    open.push(db);
    return new DocumentWriter(db, 'test-device');
  }

  const incident = (id: string) => ({ id, tenantId: 't1', incidentNumber: '2026-1', status: 'new' as const, timeline: {} });

  async function refusal(work: () => Promise<unknown>, id?: string): Promise<Error> {
    try {
      await work();
    } catch (error) {
      // As Comlink carries it: name and message only.
      const mapped = refusedWrite(error, 'incidents', id);
      return Object.assign(new Error(mapped.message), { name: mapped.name });
    }
    throw new Error('the write was not refused');
  }

  it('a record that already exists is a duplicate', async () => {
    const w = await writer();
    const id = randomUUID();
    await w.insert('incidents', incident(id) as never);
    const error = await refusal(() => w.insert('incidents', incident(id) as never), id);
    expect(error.name).toBe('WriteRefused:duplicate');
    expect(describeWriteError(error, { duplicate: 'Incident number 2026-1 already exists.' })).toBe('Incident number 2026-1 already exists.');
    expect(describeWriteError(error)).toContain('already exists');
  });

  it('a value the schema refuses names the field, on insert and on update', async () => {
    const w = await writer();
    const bad = await refusal(() => w.insert('incidents', { ...incident(randomUUID()), priority: 'P'.repeat(30) } as never));
    expect(bad.name).toBe('WriteRefused:invalid');
    expect(describeWriteError(bad)).toMatch(/^Not saved: .*priority/);
    const id = randomUUID();
    await w.insert('incidents', incident(id) as never);
    const update = await refusal(() => w.update('incidents', id, (doc) => ({ ...doc, status: 'nonsense' }) as never), id);
    expect(update.name).toBe('WriteRefused:invalid');
    expect(describeWriteError(update)).toContain('status');
  });

  it('a record no longer on the device is missing', async () => {
    const w = await writer();
    const error = await refusal(() => w.update('incidents', randomUUID(), (doc) => doc));
    expect(error.name).toBe('WriteRefused:missing');
  });
});

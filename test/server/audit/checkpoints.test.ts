/**
 * Checkpoints leave the server on their own: written at the configured cadence while the log
 * grows (none while it does not), at shutdown, into the file and to an HTTP sink (a real HTTP
 * stand-in on 127.0.0.1), in order, and sent again once a sink that was down answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpointFile, type Checkpoint } from '../../../server/audit/checkpoints.ts';
import { AuditKey } from '../../../server/store/audit-chain.ts';
import { make, seed } from '../../helpers/access.ts';
import { eventually } from '../../helpers/device.ts';
import { startTestServer } from '../../helpers/server.ts';

const KEY = 'aud-sink-key-0123456789-abcdefghijklmnopqrstuvwxyz';
const A = 'agency-a';

/** A collector that takes checkpoints, or refuses them with 503 while `down`. */
async function collector(): Promise<{ url: string; got: Checkpoint[]; keys: string[]; down: boolean; server: Server }> {
  const state = { url: '', got: [] as Checkpoint[], keys: [] as string[], down: false, server: undefined as unknown as Server };
  state.server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    req.on('end', () => {
      if (state.down) {
        res.writeHead(503).end('collector down');
        return;
      }
      state.got.push(JSON.parse(body) as Checkpoint);
      state.keys.push(String(req.headers['idempotency-key']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', () => resolve()));
  const address = state.server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/checkpoints`;
  return state;
}

const sinks: Server[] = [];
afterAll(async () => { for (const s of sinks) await new Promise((r) => s.close(r)); });

describe('audit checkpoints', () => {
  it('are written at the cadence while the log grows and not while it does not; the sink gets each one, in order, again after it was down', async () => {
    const sink = await collector();
    sinks.push(sink.server);
    const server = await startTestServer({ auditKey: KEY, auditCheckpointUrl: sink.url, auditCheckpointIntervalMs: 200, clientDir: false });
    const file = path.join(server.dataDir, 'audit-checkpoints.jsonl');
    const key = new AuditKey(KEY);
    try {
      // The one of start-up.
      await eventually('the start-up checkpoint at the sink', () => sink.got.length === 1);
      await seed(server.app.store, 'epcrs', [make.epcrs(A)]);
      await eventually('a checkpoint covering the write, without being asked', () => readCheckpointFile(file, key).checkpoints.length === 2, 10_000);
      // Quiet log: only the checkpoint's own entry since, so no new checkpoint however long we wait.
      await new Promise((r) => setTimeout(r, 800));
      expect(readCheckpointFile(file, key).checkpoints).toHaveLength(2);

      sink.down = true;
      await seed(server.app.store, 'epcrs', [make.epcrs(A)]);
      await eventually('a third checkpoint in the file while the sink refuses', () => readCheckpointFile(file, key).checkpoints.length === 3, 10_000);
      expect(sink.got).toHaveLength(2);
      sink.down = false;
      await seed(server.app.store, 'epcrs', [make.epcrs(A)]);
      await eventually('the sink caught up', () => sink.got.length === 4, 10_000);
    } finally {
      await server.close({ keepData: true });
    }
    try {
      const read = readCheckpointFile(file, key);
      expect(read.problems).toEqual([]);
      // What the sink holds is what the file holds, line for line and in order, each verifying.
      expect(sink.got.map((c) => c.n)).toEqual(read.checkpoints.slice(0, sink.got.length).map((c) => c.n));
      expect(sink.got).toEqual(read.checkpoints.slice(0, sink.got.length));
      expect(sink.keys).toEqual(sink.got.map((c) => `${c.stream}-${c.n}`));
      expect(read.checkpoints.map((c) => c.n)).toEqual(read.checkpoints.map((_, i) => i + 1));
      // Each checkpoint counts the log: growing counts, the last one signed with the key.
      const counts = read.checkpoints.map((c) => c.count);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(read.checkpoints.length);
    } finally {
      rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it('the last writes before a shutdown are covered by the shutdown checkpoint', async () => {
    const server = await startTestServer({ auditKey: KEY, clientDir: false });
    const file = path.join(server.dataDir, 'audit-checkpoints.jsonl');
    const key = new AuditKey(KEY);
    try {
      await seed(server.app.store, 'epcrs', [make.epcrs(A)]);
      const head = await server.app.store.auditHead(0);
      await server.close({ keepData: true });
      const checkpoints = readCheckpointFile(file, key).checkpoints;
      // Start-up (empty log) and shutdown; the cadence (60 s) never came.
      expect(checkpoints.map((c) => c.count)).toEqual([0, head!.countAfter]);
      expect(checkpoints[1]).toMatchObject({ lastId: head!.lastId, head: head!.lastHash });
    } finally {
      rmSync(server.dataDir, { recursive: true, force: true });
    }
  });
});

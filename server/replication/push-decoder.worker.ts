import { parentPort, workerData } from 'node:worker_threads';
import type { JsonSchemaObject } from '../../shared/schemas/wire-schema.ts';
import { buildCollectionRegistry } from './collections.ts';
import { newDocumentStateOf, type DecodeReply, type DecodeRequest } from './push-decoder.ts';

// The same validators as the push route's (collections.ts), compiled from the same schemas.
const registry = buildCollectionRegistry((workerData as { schemas: Record<string, JsonSchemaObject> }).schemas);

const utf8 = new TextDecoder();

parentPort!.on('message', (message: DecodeRequest) => {
  const reply: DecodeReply = { id: message.id, states: null };
  try {
    const spec = registry.get(message.collection);
    const body: unknown = JSON.parse(message.text ?? utf8.decode(new Uint8Array(message.bytes!)));
    if (spec && Array.isArray(body)) {
      const states: (string | null)[] = new Array(body.length);
      for (let i = 0; i < body.length; i++) {
        const state = newDocumentStateOf(body[i]);
        states[i] = state !== null && typeof state === 'object' && !Array.isArray(state) && spec.validate(state) ? JSON.stringify(state) : null;
      }
      reply.states = states;
    }
  } catch {
    // Not JSON, or not rows: the push route finds and names the problem itself.
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage('ready');

import type { WireDocument, WriteRequest } from './types.ts';

/** The text a store keeps for a decided write: the request's ready-made JSON when the decision writes what was sent. */
export function documentJson(request: WriteRequest, doc: WireDocument): string {
  return doc === request.incoming && request.incomingJson !== undefined ? request.incomingJson : JSON.stringify(doc);
}

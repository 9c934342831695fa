import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What was answered: a status code, or 'hang' (never answered). */
  answer: number | 'hang';
}

/** Decides each answer from the 1-based number of the request. */
export type Behaviour = (n: number, request: { headers: IncomingHttpHeaders; body: string }) => number | 'hang' | { status: number; body: string; headers?: Record<string, string> };

export interface HospitalServer {
  url: string;
  requests: ReceivedRequest[];
  /** Requests answered 2xx: the notices the hospital actually took. */
  accepted(): ReceivedRequest[];
  behave(behaviour: Behaviour): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 standing in for a hospital (or a clearinghouse). */
export async function startHospital(behaviour: Behaviour = () => 200): Promise<HospitalServer> {
  let current = behaviour;
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const decision = current(requests.length + 1, { headers: req.headers, body });
      const answer = typeof decision === 'object' ? decision.status : decision;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, answer });
      if (decision === 'hang') return;
      if (typeof decision === 'number') {
        res.writeHead(decision, { 'content-type': 'application/json' });
        res.end(decision < 300 ? '{"resourceType":"OperationOutcome","issue":[]}' : `{"error":"status ${decision} from the test hospital"}`);
        return;
      }
      res.writeHead(decision.status, { 'content-type': 'application/json', ...decision.headers });
      res.end(decision.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('test hospital did not bind a TCP port');
  return {
    url: `http://127.0.0.1:${address.port}/fhir/notices`,
    requests,
    accepted: () => requests.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300),
    behave(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

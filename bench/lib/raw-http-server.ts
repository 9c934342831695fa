import { createServer } from 'node:http';
import { epcrDoc, gpsDoc } from './docs.ts';

/**
 * The floor of our protocol over HTTP on this machine: a plain Node HTTP server (no framework,
 * auth, store or fan-out). A push (any POST) has its body read and parsed as JSON and is answered
 * `[]` (no conflicts), as our push endpoint answers an accepted push. A pull (a GET of
 * `…/pull?limit=&checkpoint=`) is answered from RAW_PULL_DOCS documents of RAW_PULL_KIND (`gps` or
 * `epcr`) made at start-up, each page encoded once. Run as its own process by bench/ceilings.ts;
 * it prints its port on stdout.
 */
const count = Number(process.env['RAW_PULL_DOCS'] ?? 0);
const make = process.env['RAW_PULL_KIND'] === 'epcr' ? epcrDoc : gpsDoc;
const docs = Array.from({ length: count }, (_, i) => make('bench', i));
const pages = new Map<string, string>();

function page(url: URL): string {
  const limit = Math.max(1, Number(url.searchParams.get('limit') ?? 100));
  const checkpoint = url.searchParams.get('checkpoint');
  const from = checkpoint ? (JSON.parse(checkpoint) as { seq: number }).seq : 0;
  const key = `${from}|${limit}`;
  let text = pages.get(key);
  if (text === undefined) {
    const documents = docs.slice(from, from + limit);
    text = JSON.stringify({ documents, checkpoint: { seq: from + documents.length } });
    pages.set(key, text);
  }
  return text;
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      let body = '[]';
      if (request.method === 'GET') {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        if (!url.pathname.endsWith('/pull')) throw new Error('not a pull');
        body = page(url);
      } else {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      }
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end(body);
    } catch {
      response.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      response.end('{"error":"neither a JSON push nor a pull"}');
    }
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address ? address.port : '');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

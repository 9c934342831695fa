import { createServer } from 'node:http';

/**
 * The floor of "one HTTP request per GPS point" on this machine: a plain Node HTTP server (no
 * framework, no auth, no store, no fan-out) that reads each request's body, parses it as JSON and
 * answers `[]` (no conflicts), as our push endpoint answers an accepted push. Run as its own
 * process by bench/ceilings.ts; it prints its port on stdout.
 */
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end('[]');
    } catch {
      response.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      response.end('{"error":"the body is not JSON"}');
    }
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address ? address.port : '');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

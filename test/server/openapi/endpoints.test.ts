import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../../../shared/protocol/http-schemas.ts';
import { makeDataDir, startTestServer, type TestServer } from '../../helpers/server.ts';

const PROTOCOL_DOC = path.resolve(import.meta.dirname, '../../../docs/protocol.md');
const TABLE_HEADING = '### Every HTTP endpoint';

/** The endpoints docs/protocol.md lists in its table, as "METHOD /path" with `{param}` placeholders. */
function documentedEndpoints(): string[] {
  const text = readFileSync(PROTOCOL_DOC, 'utf8');
  const start = text.indexOf(TABLE_HEADING);
  if (start < 0) throw new Error(`docs/protocol.md has no "${TABLE_HEADING}" section`);
  const section = text.slice(start + TABLE_HEADING.length).split(/\n#{2,3} /)[0] ?? '';
  return [...section.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/\S*)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses?: Record<string, unknown>; parameters?: { in: string; name: string }[] }>>;
}

function publishedEndpoints(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([url, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${url}`));
}

let server: TestServer;
let clientDir: string;
let doc: OpenApiDocument;

beforeAll(async () => {
  // A stand-in build, so the apps' routes exist and can be seen to stay out of the API's document.
  clientDir = makeDataDir('openapi-apps');
  mkdirSync(path.join(clientDir, 'login'), { recursive: true });
  mkdirSync(path.join(clientDir, 'assets'), { recursive: true });
  writeFileSync(path.join(clientDir, 'login/index.html'), '<!doctype html><title>sign in</title>');
  writeFileSync(path.join(clientDir, 'service-worker.js'), '');
  writeFileSync(path.join(clientDir, 'assets/app-1234.js'), '');
  server = await startTestServer({ clientDir });
  const response = await fetch(`${server.url}${OPENAPI_PATH}`);
  expect(response.status).toBe(200);
  doc = await response.json() as OpenApiDocument;
});

afterAll(async () => {
  await server?.close();
  rmSync(clientDir, { recursive: true, force: true });
});

describe('the HTTP API as OpenAPI (GET /api/openapi.json)', () => {
  it('is served without a token, as OpenAPI 3', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });

  it('lists exactly the endpoints of docs/protocol.md\'s endpoint table, both ways', () => {
    const documented = documentedEndpoints();
    const published = publishedEndpoints(doc);
    expect(documented.length).toBeGreaterThan(0);
    expect(new Set(documented).size, 'an endpoint is listed twice in docs/protocol.md').toBe(documented.length);
    expect(published.filter((e) => !documented.includes(e)), 'served but missing from docs/protocol.md').toEqual([]);
    expect(documented.filter((e) => !published.includes(e)), 'in docs/protocol.md but not served').toEqual([]);
  });

  it('describes every operation: its answers, its path parameters, and errors in the one error shape', () => {
    const problems: string[] = [];
    for (const [url, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${url}`;
        const statuses = Object.keys(operation.responses ?? {});
        if (!statuses.some((status) => /^2/.test(status))) problems.push(`${name}: no success answer`);
        for (const param of url.match(/\{[^}]+\}/g) ?? []) {
          if (!operation.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === param)) problems.push(`${name}: ${param} undescribed`);
        }
        // /ready's 503 is its readiness report (docs/protocol.md, section 21), not an error.
        for (const status of statuses.filter((s) => /^[45]/.test(s) && !(url === '/ready' && s === '503'))) {
          const schema = (operation.responses?.[status] as { content?: Record<string, { schema?: { required?: string[] } }> }).content?.['application/json']?.schema;
          if (!schema?.required?.includes('error')) problems.push(`${name}: ${status} is not the error body`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('leaves the apps\' pages and assets out (they are not API)', async () => {
    expect((await fetch(`${server.url}/assets/app-1234.js`)).status).toBe(200);
    const published = publishedEndpoints(doc);
    expect(published.filter((e) => !/^(GET|POST|PUT|PATCH) \/(api\/|health$|ready$|metrics$)/.test(e))).toEqual([]);
  });
});

/**
 * The walls of the house, written as rules a checker can hold the code to (scripts/walls/check.ts,
 * run by `npm run walls` and by test/walls.test.ts in `npm test`). Each rule says why the wall is
 * there: read that before changing one. Paths are repository-relative with forward slashes.
 */

/** The source trees the rules read (tests, benches and generated bundles are not product code). */
export const SOURCE_ROOTS = ['client', 'server', 'shared', 'sw', 'scripts'] as const;

export interface ImportWall {
  name: string;
  why: string;
  /** Files the rule applies to. */
  from: RegExp;
  /** What they may not import: repository paths (`server/hooks/x.ts`) or package names (`fastify`). */
  to: RegExp;
  /** Files of `from` the rule does not apply to, each with its reason. */
  except?: ReadonlyArray<{ path: RegExp; why: string }>;
}

export const IMPORT_WALLS: readonly ImportWall[] = [
  {
    name: 'shared-is-self-contained',
    why: 'shared/ is what device and server both run: it imports npm packages and itself, never one side, the service worker, tests, benches or scripts.',
    from: /^shared\//,
    to: /^(client|server|sw|test|bench|scripts)\//,
  },
  {
    name: 'device-never-imports-server',
    why: 'The apps, the device sync library and the service worker are built for the browser; what they share with the server lives in shared/.',
    from: /^(client|sw)\//,
    to: /^server\//,
  },
  {
    name: 'replication-is-generic',
    why: 'server/replication is the sync spine (pull, push, decisions, conflicts, checkpoints, scope, stream). It knows no EMS workflow, hook or integration: domain rules plug in through its write-policy seam, hooks through the store\'s outbox planner.',
    from: /^server\/replication\//,
    to: /^(server\/(hooks|integrations|nemsis|exports|demo|admin)\/|shared\/(domain|epcr|nemsis)\/)/,
  },
  {
    name: 'store-knows-no-http-and-no-hooks',
    why: 'server/store is the one owner of the database. It is opened with an outbox planner (an interface it declares) and knows nothing of HTTP, sockets, routes, auth or hooks.',
    from: /^server\/store\//,
    to: /^(server\/(hooks|replication|http|realtime|integrations|auth|admin|exports)\/|fastify$|fastify-plugin$|@fastify\/|socket\.io$)/,
  },
  {
    name: 'the-queue-stands-alone',
    why: 'client/queue/ owns the device\'s outbound queue for everyone who uses it: the database workers, the pages, the service worker. It imports only shared/ and packages, never one of its users.',
    from: /^client\/queue\//,
    to: /^(client\/(?!queue\/)|sw\/|server\/)/,
  },
  {
    name: 'session-knows-no-screens',
    why: 'client/session/ (the session, the device\'s keys, the lock) is what the screens, the database worker and the tests build on; it never imports the screens or Preact.',
    from: /^client\/session\//,
    to: /^(client\/(ui|apps)\/|preact($|\/)|@preact\/)/,
  },
];

export interface TextWall {
  name: string;
  why: string;
  /** A string literal (or template text) of product code matching this breaks the wall… */
  literal: RegExp;
  /** …unless it is in one of these files. */
  allowedIn: RegExp;
}

export const TEXT_WALLS: readonly TextWall[] = [
  {
    name: 'api-paths-live-in-the-protocol',
    why: 'Device, service worker and server must agree on every path; one module owns them (shared/protocol/), so a renamed route cannot leave a client calling the old one.',
    literal: /^\/api(\/|$)/,
    allowedIn: /^shared\/protocol\//,
  },
  {
    name: 'one-owner-of-the-queue-database',
    why: 'The device\'s outbound queue (IndexedDB `fieldsync-outbox`) has one owner, client/queue/: a second module opening it by name can upgrade or read it behind the owner\'s back.',
    literal: /^fieldsync-outbox$/,
    allowedIn: /^client\/queue\//,
  },
];

/** No file may import itself back through others: a circle is one concept split over two places. */
export const NO_CIRCLES_IN = /^(client|server|shared|sw)\//;

import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/types.ts';
import { AccessControl } from './access.ts';
import type { CollectionRegistry } from './collections.ts';
import { openSealedRows, type EnvelopeKeyring } from './envelopes.ts';
import { registerPullRoute } from './pull.ts';
import { decodingJsonParser, type PushDecoder } from './push-decoder.ts';
import { registerPushRoute, type DecodedStates } from './push.ts';
import { registerRejectionsRoute } from './rejections.ts';
import { registerScopeRoute } from './scope.ts';
import type { WritePolicy } from './write-policy.ts';

export interface ReplicationRoutesOptions {
  registry: CollectionRegistry;
  store: Store;
  /**
   * The domain's write policies (write-policy.ts), asked in order for every pushed row; required,
   * so a server is never built without deciding them (the product's: server/hooks/policies/).
   */
  policies: readonly WritePolicy[];
  /** The access rules to enforce; defaults to shared/access/rules.ts with undeclared collections denied. */
  access?: AccessControl;
  /** The transport keys sealed push rows are opened with (server/auth/transport-keys.ts); without it sealed rows are invalid documents. */
  envelopes?: EnvelopeKeyring;
  /** Decodes large push bodies on a worker thread too (push-decoder.ts); absent: all on the event loop. */
  pushDecoder?: PushDecoder;
}

/** Mounted under `SYNC_BASE_PATH`; authentication runs before every route of this plugin. */
export async function replicationRoutes(app: FastifyInstance, options: ReplicationRoutesOptions): Promise<void> {
  const access = options.access ?? new AccessControl({ undeclared: 'deny' });
  registerRejectionsRoute(app, options.store);
  registerPullRoute(app, options.registry, options.store, access);
  registerScopeRoute(app, options.registry, options.store, access);
  // A scope of its own, so opening sealed rows runs before the push route and nowhere else.
  await app.register(async (push) => {
    const { envelopes } = options;
    let decoded: DecodedStates | undefined;
    const decoder = options.pushDecoder;
    if (decoder) {
      const json = decodingJsonParser(push, decoder);
      push.removeContentTypeParser('application/json');
      push.addContentTypeParser('application/json', { parseAs: 'buffer' }, json.parser);
      decoded = json.decoded;
    }
    if (envelopes) push.addHook('preHandler', openSealedRows(options.registry, options.store, envelopes));
    registerPushRoute(push, options.registry, options.store, { access, policies: options.policies, decoded });
  });
}

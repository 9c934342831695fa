/**
 * Globals SaxonJS's Node build reads when it loads (`global`, `process.platform`), set in the rules
 * worker before it is imported (imported first by rules.worker.ts). Only in that worker.
 */
const scope = globalThis as unknown as { global?: unknown; process?: unknown; abstractNode?: unknown; HostPlatform?: unknown };
scope.global ??= globalThis;
scope.process ??= { platform: 'browser', env: {} };
// Assigned without a declaration (`abstractNode=…`, `HostPlatform=…`: sloppy-mode script code); the
// worker is a module, so strict, and they must exist before SaxonJS runs.
scope.abstractNode ??= undefined;
scope.HostPlatform ??= undefined;
export {};

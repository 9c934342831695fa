import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_SERVER_SETTINGS } from './server.ts';
import { waitBudgetMs } from './wait-budget.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The V8 flags `npm start` gives the server (package.json): a 64 MiB young generation, so a push
 * batch's parsed documents (several MB while their transaction waits for its fsync) die young
 * instead of being promoted and collected by the old generation's mark-compact.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** SIGKILL: no shutdown hook runs, exactly like a crash or a pulled plug on the process. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** The real CLI (`npm start`'s entry point) in its own process, for crash tests. */
export async function startServerProcess(options: { port: number; dataDir: string; env?: Record<string, string>; startTimeoutMs?: number }): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(ROOT, 'server/cli.ts')], {
    cwd: ROOT,
    // An API-only process: building the apps is the browser tests' business, not a crash test's.
    // Development tokens and wide sign-in limits, as test/helpers/server.ts opts in for in-process servers.
    env: {
      ...process.env, PORT: String(options.port), HOST: '127.0.0.1', DATA_DIR: options.dataDir, LOG_LEVEL: 'warn', BUILD_APPS: 'false',
      DEV_TOKENS: 'true', LOGIN_IP_RATE_LIMIT: '100000', LOGIN_GLOBAL_RATE_LIMIT: '100000', METRICS_TOKEN: TEST_SERVER_SETTINGS.metricsToken,
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${options.port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Until just before the test's own limit: a loaded machine can take longer than 30 s to start it.
  const startTimeoutMs = options.startTimeoutMs ?? waitBudgetMs(30_000);
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server process exited with ${child.exitCode} during start-up`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server process did not become healthy in ${startTimeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

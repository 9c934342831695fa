/**
 * Vitest global setup: the apps are built once (when missing or older than their sources) before
 * any test file starts. Otherwise the first browser file to start builds them inside its own
 * set-up, beside the other worker's tests: on a loaded 2-core machine that build took most of a
 * set-up's time limit (outbox-lifecycle's and device-security's set-ups failed that way in full
 * runs while passing alone). The files still call ensureApps(), which finds the build fresh.
 */
import { ensureClientBuilt } from '../../server/apps/static.ts';

export default async function buildAppsOnce(): Promise<void> {
  await ensureClientBuilt({ log: (message) => console.log(message) });
}

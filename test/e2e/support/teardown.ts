import type { BrowserContext } from 'playwright-core';
import { closeDevice, removeProfileDir } from './browser.ts';
import type { Cable } from './cable.ts';
import type { E2eServer } from './server.ts';

/** What a browser test may have started; each part is optional, as a failed beforeAll leaves it. */
export interface DeviceRig {
  ctx?: BrowserContext | undefined;
  cable?: Cable | undefined;
  server?: E2eServer | undefined;
  profile?: string | undefined;
  errors?: string[];
}

/**
 * Closes a browser test's device, cable and server and removes the profile, in that order (the
 * device first, so nothing it still sends reaches a closing server), then prints what the pages
 * logged as errors, which is where a failure's cause usually is.
 */
export async function tearDownDevice(rig: DeviceRig): Promise<void> {
  if (rig.ctx) await closeDevice(rig.ctx).catch(() => {});
  await rig.cable?.close();
  await rig.server?.dispose();
  if (rig.profile) await removeProfileDir(rig.profile);
  if (rig.errors?.length) console.log(rig.errors.join('\n'));
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM } from './browser.ts';

/**
 * A real network link for one browser (shared/reference/browser-testing.md, "Real offline"):
 * Chromium runs in its own Linux network namespace, joined to the host by a veth pair, and reaches
 * the device's cable through a forwarder on the namespace's own 127.0.0.1:<cable port> (so the
 * origin is the same as without a link). Bringing the link down is what a tablet leaving coverage
 * sees: `navigator.onLine`, Chromium's network state and Background Sync all follow it, where
 * DevTools' offline emulation cannot follow a stopped service worker.
 *
 * Needs root and iproute2 (the project's test machines have both); `available()` says whether
 * this machine can make one.
 */
export interface Link {
  /** The browser to launch: Chromium inside the namespace. */
  executablePath: string;
  /** The host-side address the cable must listen on. */
  hostAddress: string;
  down(): void;
  up(): void;
  dispose(): void;
}

export function linkAvailable(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/sbin/ip') && existsSync('/usr/bin/socat');
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/** `id` (1..250) keeps the namespace, interfaces and subnet apart from other suites' links. */
export function createLink(id: number, port: number): Link {
  if (!linkAvailable()) throw new Error('a real link needs root, iproute2 and socat');
  const ns = `fsync-e2e-${id}`;
  const hostIf = `fsh${id}`;
  const innerIf = `fsi${id}`;
  const hostAddress = `10.251.${id}.1`;
  const innerAddress = `10.251.${id}.2`;
  const removeNamespace = () => {
    try { ip('netns', 'del', ns); } catch { /* not there */ }
    try { ip('link', 'del', hostIf); } catch { /* gone with the namespace */ }
  };
  removeNamespace();
  ip('netns', 'add', ns);
  ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', innerIf);
  ip('link', 'set', innerIf, 'netns', ns);
  ip('addr', 'add', `${hostAddress}/30`, 'dev', hostIf);
  ip('link', 'set', hostIf, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${innerAddress}/30`, 'dev', innerIf);
  const up = () => {
    ip('netns', 'exec', ns, 'ip', 'link', 'set', innerIf, 'up');
    try { ip('netns', 'exec', ns, 'ip', 'route', 'replace', 'default', 'via', hostAddress); } catch { /* set */ }
  };
  up();
  // The browser's 127.0.0.1:<port> inside the namespace -> the cable on the host side of the link.
  const forwarder: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `TCP:${hostAddress}:${port}`], { stdio: 'ignore' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldsync-link-'));
  const executablePath = path.join(dir, 'chromium-in-namespace');
  writeFileSync(executablePath, `#!/bin/sh\nexec nsenter --net=/var/run/netns/${ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  return {
    executablePath,
    hostAddress,
    down: () => ip('netns', 'exec', ns, 'ip', 'link', 'set', innerIf, 'down'),
    up,
    dispose() {
      forwarder.kill();
      removeNamespace();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

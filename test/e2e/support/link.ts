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
  /**
   * What the kernel tells the browser about the link from now on (netlink, `ip monitor link
   * address` inside the namespace), one line per event with when it was read (epoch ms). Chromium
   * announces "online" a fixed delay after the last of these (net/base/network_change_notifier_linux.cc):
   * a benchmark uses them to tell the browser's delay from its own. `stop()` ends the watch.
   */
  watch(): Promise<{ events: { at: number; line: string }[]; stop(): void }>;
  dispose(): void;
}

export function linkAvailable(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/sbin/ip') && existsSync('/usr/bin/socat');
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

/**
 * The link is named after `port`, the device's cable port, so its namespace, interfaces and subnet
 * are as unique as the port: each test file has its own port offset (e2ePort) and each run its own
 * FIELDSYNC_E2E_PORT_BASE. Two files given the same port could not run side by side anyway: their
 * cables would listen on the same link address, and the second would fail (EADDRINUSE) rather
 * than quietly share the first one's link.
 */
export interface LinkOptions {
  /**
   * IPv6 on the browser's side of the link. Each time the link comes up the kernel gives it a
   * link-local IPv6 address, and Chromium on Linux announces the network (to Background Sync; pages
   * hear the link at once) 1.5 s after the last link change and 2 s after the last address change
   * (`NetworkChangeCalculatorParamsLinux`, net/base/network_change_notifier_linux.cc):
   * - 'dad' (default, the kernel's own): the address is usable once its duplicate address
   *   detection ends, 1-2 s after the link, at random: Chromium announces after 1.5 s, or 2 s after
   *   that address event (3-4 s);
   * - 'at-once': no duplicate address detection and no random wait before it, so the address
   *   event comes with the link change, and the connection type change it brings sets Chromium's
   *   last timer: 1.5 s after the link, every time (bench:browser's shift backlog: 1.54-1.67 s);
   * - 'off': no IPv6, no address event: 1.5 s after the link. But going offline is then a link
   *   change alone, and Chromium keeps its connections: a request begun offline can hang (its
   *   bytes in TCP retransmits, no reset) instead of failing; the queue gives such a push up once
   *   the worker sees the network back (sw/queue/coverage-return.ts).
   */
  ipv6?: 'dad' | 'at-once' | 'off';
}

export function createLink(port: number, options: LinkOptions = {}): Link {
  if (!linkAvailable()) throw new Error('a real link needs root, iproute2 and socat');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`createLink: ${port} is not a TCP port`);
  const ns = `fsync-e2e-${port}`;
  const hostIf = `fsh${port}`;
  const innerIf = `fsi${port}`;
  // One /30 per port inside 10.252.0.0/14 (65536 subnets): 10.(252 + p / 16384).((p / 64) % 256).((p % 64) * 4).
  const subnet = `10.${252 + Math.floor(port / 16384)}.${Math.floor(port / 64) % 256}`;
  const hostAddress = `${subnet}.${(port % 64) * 4 + 1}`;
  const innerAddress = `${subnet}.${(port % 64) * 4 + 2}`;
  /**
   * Also what a run that was killed left behind: its namespace, its host interface and the
   * processes still inside the namespace (a forwarder or a Chromium of that run, which would
   * otherwise keep the old namespace alive unnamed).
   */
  const removeNamespace = () => {
    try {
      for (const pid of ip('netns', 'pids', ns).toString().split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone meanwhile */ }
      }
    } catch { /* no such namespace */ }
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
  if (options.ipv6 === 'off') ip('netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${innerIf}.disable_ipv6=1`);
  if (options.ipv6 === 'at-once') {
    // No duplicate address detection, and no random wait (up to 1 s) before it would start.
    ip('netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${innerIf}.dad_transmits=0`);
    ip('netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${innerIf}.router_solicitation_delay=0`);
  }
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
    async watch() {
      const events: { at: number; line: string }[] = [];
      const monitor = spawn('ip', ['netns', 'exec', ns, 'ip', '-o', 'monitor', 'link', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let partial = '';
      monitor.stdout!.on('data', (chunk: Buffer) => {
        const at = Date.now();
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) events.push({ at, line: line.replace(/\s+/g, ' ').trim() });
      });
      // `ip monitor` listens once it runs; give it a moment so the first event is not missed.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { events, stop: () => void monitor.kill() };
    },
    dispose() {
      forwarder.kill();
      removeNamespace();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

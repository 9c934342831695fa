import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (100 on Linux unless told otherwise). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds (user + system) a process has used so far, read from /proc/<pid>/stat. The
 * server runs as its own process, so this is the server's cost alone, whatever the clients do.
 * Resolution is one clock tick (10 ms).
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14 of the full line
  const stime = Number(fields[12]); // field 15
  return (utime + stime) / CLK_TCK;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the last sample. */
export function rssSampler(pid: number, everyMs = 500): { stop(): { peak: number; last: number } } {
  let peak = 0;
  let last = 0;
  const sample = () => {
    try {
      last = rssBytes(pid);
      peak = Math.max(peak, last);
    } catch {
      // the process has gone
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peak, last };
    },
  };
}

/** The machine's load averages, for printing beside every figure. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Busy CPU seconds of the whole machine so far (all cores; /proc/stat, idle and iowait excluded). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** This process's CPU seconds, worker threads included. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Tells how much of the machine other people's work took during a measurement: busy CPU of the
 * whole machine minus this benchmark process (clients) minus the server under test, in cores.
 */
export function cpuShares(serverPid: number): { stop(): { wallSeconds: number; serverCores: number; clientCores: number; otherCores: number } } {
  const t0 = performance.now();
  const m0 = machineBusySeconds();
  const s0 = selfCpuSeconds();
  const v0 = cpuSeconds(serverPid);
  return {
    stop() {
      const wall = (performance.now() - t0) / 1000;
      const server = cpuSeconds(serverPid) - v0;
      const client = selfCpuSeconds() - s0;
      const machine = machineBusySeconds() - m0;
      return { wallSeconds: wall, serverCores: server / wall, clientCores: client / wall, otherCores: Math.max(0, machine - server - client) / wall };
    },
  };
}

/** CPU seconds of one thread of a process, user and system apart, keyed by `<name>#<tid>`. */
export type ThreadCpu = Map<string, { name: string; user: number; sys: number }>;

/**
 * Every thread's CPU so far (/proc/<pid>/task/<tid>/stat): the main thread (named after the
 * process), libuv's pool ("libuv-worker"), V8's GC and compiler threads ("V8 DefaultWorke"),
 * worker_threads and so on ("node" for all of them where Node cannot name its threads). Threads that ended before
 * the read are missing: their time is in the process total only.
 */
export function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = new Map();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The main thread (the event loop) by its role: Node names its other threads "node" too on some kernels.
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}#${tid}`, { name, user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Per thread name, the user and system CPU seconds between two `threadCpu` reads (threads of one name summed). */
export function threadCpuDelta(before: ThreadCpu, after: ThreadCpu): { name: string; user: number; sys: number }[] {
  const byName = new Map<string, { name: string; user: number; sys: number }>();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { user: 0, sys: 0 };
    const row = byName.get(a.name) ?? { name: a.name, user: 0, sys: 0 };
    row.user += a.user - b.user;
    row.sys += a.sys - b.sys;
    byName.set(a.name, row);
  }
  return [...byName.values()].filter((r) => r.user + r.sys > 0).sort((x, y) => y.user + y.sys - (x.user + x.sys));
}

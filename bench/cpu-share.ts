/**
 * Where the machine's CPU went during a benchmark window (Linux /proc): the whole machine's busy
 * share, and CPU seconds per process group — the service, the API process, PostgreSQL, InfluxDB, the
 * load tools. On a small machine whose cores every part of a run shares, a latency tail is often
 * waiting for a core rather than work of its own; this says whether the machine was saturated and
 * by whom. Returns null where /proc is absent.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuShare {
  /** Busy share of all cores over the window, 0–1 (1 = every core busy all the time). */
  machineBusy: number;
  /** Share of that taken by the hypervisor for other guests (steal), 0–1: part of machineBusy. */
  steal: number;
  cores: number;
  /** Cores used on average over the window, per group (largest first). */
  byGroup: { group: string; cores: number }[];
}

interface Snapshot {
  at: number;
  /** jiffies, busy and total, from the cpu line of /proc/stat */
  busy: number;
  total: number;
  steal: number;
  cores: number;
  /** utime + stime in jiffies per pid, with the pid's group */
  procs: Map<number, { group: string; ticks: number }>;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/**
 * Starts a window; call the result to end it. `groupOf` names a process group from pid and command.
 * Processes are sampled every `everyMs` too, so one that ends before the window does (a load tool)
 * still counts up to its last sample.
 */
export function cpuShare(groupOf: (pid: number, comm: string) => string | null, everyMs = 1000): () => CpuShare | null {
  const first = snapshot(groupOf);
  const latest = new Map(first?.procs ?? []);
  const sample = (): Snapshot | null => {
    const s = snapshot(groupOf);
    for (const [pid, p] of s?.procs ?? []) latest.set(pid, p);
    return s;
  };
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    const last = sample();
    if (!first || !last) return null;
    const seconds = (last.at - first.at) / 1000;
    const perGroup = new Map<string, number>();
    for (const [pid, p] of latest) {
      const before = first.procs.get(pid)?.ticks ?? 0; // a process started within the window counts from 0
      perGroup.set(p.group, (perGroup.get(p.group) ?? 0) + (p.ticks - before) / TICKS_PER_S / seconds);
    }
    const total = Math.max(1, last.total - first.total);
    return {
      machineBusy: Math.round(((last.busy - first.busy) / total) * 1000) / 1000,
      steal: Math.round(((last.steal - first.steal) / total) * 1000) / 1000,
      cores: last.cores,
      byGroup: [...perGroup].map(([group, cores]) => ({ group, cores: Math.round(cores * 100) / 100 })).filter((g) => g.cores > 0).sort((a, b) => b.cores - a.cores),
    };
  };
}

/** "machine 93 % busy (2 cores): api 0.61, postgres 0.45, …" */
export function cpuShareLine(s: CpuShare): string {
  return `machine ${Math.round(s.machineBusy * 100)} % busy over ${s.cores} cores (steal ${Math.round(s.steal * 100)} %); cores used: ${s.byGroup.map((g) => `${g.group} ${g.cores}`).join(', ')}`;
}

function snapshot(groupOf: (pid: number, comm: string) => string | null): Snapshot | null {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const lines = stat.split('\n');
  // cpu user nice system idle iowait irq softirq steal …
  const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const procs = new Map<number, { group: string; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let s: string;
    try {
      s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid … utime(14) stime(15): comm may hold spaces and parentheses
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const group = groupOf(pid, comm);
    if (group === null) continue;
    const rest = s.slice(close + 2).split(' ');
    procs.set(pid, { group, ticks: Number(rest[11]) + Number(rest[12]) });
  }
  return { at: Date.now(), busy: total - idle, total, steal: f[7] ?? 0, cores: lines.filter((l) => /^cpu\d/.test(l)).length, procs };
}

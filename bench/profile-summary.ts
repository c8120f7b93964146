/**
 * Summarises a V8 .cpuprofile (from `bench/ingest.ts --cpu-prof DIR` or `node --cpu-prof`):
 * where the CPU time went, by self time per function, by self time per file/package, and by
 * inclusive ("total") time per function.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25] [--focus SUBSTRING] [--callers SUBSTRING]
 *
 * --focus restricts the inclusive table to functions whose name or file contains SUBSTRING.
 * --callers SUBSTRING: who calls it — for every sample with a matching frame, that frame and its
 *   callers (--depth frames, default 6), aggregated (inclusive time).
 * --stages: attributes every sample to a stage of the ingest path (broker, pipeline, rules, database,
 *   telemetry write, bench harness, GC) by its innermost frame that belongs to one; native frames
 *   (JSON.parse, Buffer ops, syscalls) count for the stage that called them.
 * --stalls MS: the stretches where the thread never went idle for at least MS (what a request arriving
 *   then waits behind): how many, how long, and their time by stage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

// `| head` closes stdout early: not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const { values, positionals } = parseArgs({
  options: { stalls: { type: 'string' }, stages: { type: 'boolean', default: false }, top: { type: 'string', default: '25' }, focus: { type: 'string' }, callers: { type: 'string' }, depth: { type: 'string', default: '6' } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  console.error('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25] [--focus SUBSTRING]');
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
for (const n of profile.nodes) {
  byId.set(n.id, n);
  for (const c of n.children ?? []) parent.set(c, n.id);
}

const shortUrl = (url: string): string => {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const cwd = process.cwd() + '/';
  return u.startsWith(cwd) ? u.slice(cwd.length) : u;
};
const fnKey = (cf: CallFrame): string => `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
const fileKey = (cf: CallFrame): string => {
  const s = shortUrl(cf.url);
  if (!s) return cf.functionName.startsWith('(') ? cf.functionName : '(native/V8)';
  if (s.startsWith('node:')) return s;
  // packages: group by package name (with scope)
  const parts = s.split('/');
  if (cf.url.includes('/node_modules/')) return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]} (pkg)` : `${parts[0]} (pkg)`;
  return s;
};

/** Innermost matching frame wins: a Prisma call inside the rules engine counts as database. */
const STAGES: [string, RegExp][] = [
  ['telemetry write: line protocol + gzip + HTTP to InfluxDB', /ingest\/telemetry-store\/|@influxdata|undici|zlib/],
  ['database: Prisma + pg', /@prisma\/|\/pg\/|^pg |pg-pool|pg-protocol|adapter-pg|(^|\s)pg\//],
  ['rules engine (rules/)', /rules\//],
  ['ingest pipeline: topic, JSON decode, asset lookup, activity', /ingest\/(pipeline|payload|asset-directory|topics|dead-letters|presence)/],
  ['broker: aedes + mqtt-packet + ACL + socket reads', /aedes|mqtt-packet|(^|\s)bl\/|qlobber|mqemitter|ingest\/broker|device-auth|fastfall|fastparallel|fastseries|reusify|hyperid/],
  ['API (fastify)', /fastify|avvio|find-my-way/],
  ['bench harness (probe, sampler, mqtt.js probe client)', /bench\/|(^|\s)mqtt\//],
];
const stageOf = (leaf: number): string => {
  for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(garbage collector)') return 'garbage collector';
    if (cf.functionName === '(idle)') return '(idle)';
    if (cf.functionName === '(program)') return 'V8/Node internals ((program))';
    const k = fnKey(cf);
    for (const [name, re] of STAGES) if (re.test(shortUrl(cf.url)) || re.test(k)) return name;
  }
  return 'other (event loop, streams, timers, promises)';
};
const stages = new Map<string, number>();
const callers = new Map<string, number>();
const self = new Map<string, number>();
const selfFile = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000; // µs → ms
  const node = byId.get(profile.samples[i]!);
  if (!node) continue;
  all += dt;
  if (values.stages) stages.set(stageOf(node.id), (stages.get(stageOf(node.id)) ?? 0) + dt);
  self.set(fnKey(node.callFrame), (self.get(fnKey(node.callFrame)) ?? 0) + dt);
  selfFile.set(fileKey(node.callFrame), (selfFile.get(fileKey(node.callFrame)) ?? 0) + dt);
  if (values.callers) {
    // the innermost frame matching, and its callers
    let from: number | undefined = node.id;
    while (from !== undefined && !fnKey(byId.get(from)!.callFrame).includes(values.callers)) from = parent.get(from);
    if (from !== undefined) {
      const chain: string[] = [];
      for (let id: number | undefined = from; id !== undefined && chain.length < Number(values.depth); id = parent.get(id)) chain.push(fnKey(byId.get(id)!.callFrame).replace(/\s+/g, ' '));
      const k = chain.join('\n             ← ');
      callers.set(k, (callers.get(k) ?? 0) + dt);
    }
  }
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const k = fnKey(byId.get(id)!.callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + dt);
  }
}

const idle = self.get('(idle)  ') ?? 0;
const busy = all - idle;
const print = (title: string, m: Map<string, number>, filter?: (k: string) => boolean): void => {
  console.log(`\n${title}`);
  console.log(`  ${'ms'.padStart(9)} ${'% busy'.padStart(7)}  function / file`);
  const rows = [...m.entries()].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!filter || filter(k))).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, v] of rows) console.log(`  ${v.toFixed(0).padStart(9)} ${((v / busy) * 100).toFixed(1).padStart(6)}%  ${k}`);
};

console.log(`${file}\n  wall ${(all / 1000).toFixed(2)} s sampled, busy ${(busy / 1000).toFixed(2)} s (${((busy / all) * 100).toFixed(0)} %), idle ${(idle / 1000).toFixed(2)} s`);
if (values.stages) print('Busy time by stage of the ingest path', stages);
print('Self time by file / package', selfFile);
print('Self time by function', self);
print(`Inclusive time by function${values.focus ? ` (matching "${values.focus}")` : ''}`, total, values.focus ? (k) => k.includes(values.focus!) : undefined);
if (values.callers) print(`Call stacks of samples in "${values.callers}"`, callers);
if (values.stalls) {
  const minMs = Number(values.stalls);
  const runs: { ms: number; samples: number[] }[] = [];
  let cur: { ms: number; samples: number[] } = { ms: 0, samples: [] };
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node || node.callFrame.functionName === '(idle)') {
      if (cur.ms >= minMs) runs.push(cur);
      cur = { ms: 0, samples: [] };
      continue;
    }
    cur.ms += dt;
    cur.samples.push(i);
  }
  if (cur.ms >= minMs) runs.push(cur);
  const byStage = new Map<string, number>();
  for (const r of runs) for (const i of r.samples) byStage.set(stageOf(profile.samples[i]!), (byStage.get(stageOf(profile.samples[i]!)) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  const lengths = runs.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`\nBusy stretches of ≥ ${minMs} ms without going idle: ${runs.length} (${(runs.length / (all / 1000)).toFixed(1)}/s), ${lengths.length ? `median ${lengths[Math.floor(lengths.length / 2)]!.toFixed(0)} ms, longest ${lengths.at(-1)!.toFixed(0)} ms` : ''}`);
  print('Their time by stage', byStage);
}

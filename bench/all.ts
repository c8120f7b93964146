/**
 * npm run bench — runs every benchmark in turn (each in its own process, with --json) and prints one
 * summary table of their headline figures. Progress of each bench goes to stderr as it runs.
 *
 *   npm run bench -- [--only ingest,api] [--skip soak] [--soak-minutes 30] [--json]
 *
 * Order: ingest, rules, dispatch, api (API under ingest load), api-apart (the same with the API in its
 * own ROLES=api process), peer (Node-RED side by side), soak.
 * With the default 30-minute soak the whole run takes about 45 minutes. A bench that fails is listed
 * in the table as failed (with its exit code); the others still run. Nothing here passes or fails.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineLine, tsxImport } from './harness.ts';

export interface SummaryRow {
  name: string;
  value: number | string;
  unit?: string;
  target?: string;
  met?: boolean;
}

const { values: argv } = parseArgs({
  options: {
    only: { type: 'string' },
    skip: { type: 'string' },
    'soak-minutes': { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
  },
});

const BENCHES: { id: string; file: string; args: string[] }[] = [
  { id: 'ingest', file: 'ingest.ts', args: [] },
  { id: 'rules', file: 'rules.ts', args: [] },
  { id: 'dispatch', file: 'dispatch.ts', args: [] },
  { id: 'api', file: 'api-load.ts', args: [] },
  // the same load with the API in a ROLES=api process of its own (the deployment for this load)
  { id: 'api-apart', file: 'api-load.ts', args: ['--api-process'] },
  { id: 'peer', file: 'peer.ts', args: [] },
  { id: 'soak', file: 'soak.ts', args: ['--minutes', argv['soak-minutes']] },
];

const list = (s: string | undefined): string[] | undefined => s?.split(',').map((x) => x.trim()).filter(Boolean);
const only = list(argv.only);
const skip = list(argv.skip) ?? [];
for (const id of [...(only ?? []), ...skip]) if (!BENCHES.some((b) => b.id === id)) throw new Error(`unknown bench "${id}" (known: ${BENCHES.map((b) => b.id).join(', ')})`);

/** The last JSON object with a `summary` array in a bench's stdout (log lines may surround it). */
export function findResult(stdout: string): { summary: SummaryRow[] } | undefined {
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.startsWith('{')) continue;
    for (let j = i; j < lines.length; j++) {
      if (!lines[j]!.trimEnd().endsWith('}')) continue;
      try {
        const v = JSON.parse(lines.slice(i, j + 1).join('\n')) as { summary?: unknown };
        if (Array.isArray(v.summary)) return v as { summary: SummaryRow[] };
      } catch {
        /* not a whole document yet */
      }
    }
  }
  return undefined;
}

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxImport(), fileURLToPath(new URL(`./${file}`, import.meta.url)), '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('close', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve({ code, stdout, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

const rows: (SummaryRow & { bench: string })[] = [];
const runs: { bench: string; code: number | null; seconds: number }[] = [];
for (const b of BENCHES) {
  if ((only && !only.includes(b.id)) || skip.includes(b.id)) continue;
  process.stderr.write(`\n==== bench ${b.id} (${b.file} --json ${b.args.join(' ')}) ====\n`);
  const r = await run(b.file, b.args);
  runs.push({ bench: b.id, code: r.code, seconds: r.seconds });
  const result = findResult(r.stdout);
  if (r.code !== 0 || !result) rows.push({ bench: b.id, name: `${b.id}: FAILED (exit code ${r.code}${result ? '' : ', no result'}; see its output above)`, value: '—' });
  else for (const row of result.summary) rows.push({ bench: b.id, ...row });
}

if (argv.json) console.log(JSON.stringify({ machine: machineLine(), runs, summary: rows }, null, 2));
else {
  const cell = (row: SummaryRow): string => `${typeof row.value === 'number' ? row.value.toLocaleString('en') : row.value}${row.unit ? ` ${row.unit}` : ''}`;
  const verdict = (row: SummaryRow): string => (row.met === undefined ? '' : row.met ? 'met' : 'NOT met');
  const w = [Math.max(...rows.map((r) => r.name.length), 6), Math.max(...rows.map((r) => cell(r).length), 6), Math.max(...rows.map((r) => (r.target ?? '').length), 6)];
  console.log(`\nBenchmark summary — ${machineLine()}`);
  console.log(`${'Figure'.padEnd(w[0]!)} | ${'Value'.padEnd(w[1]!)} | ${'Target'.padEnd(w[2]!)} | Verdict`);
  console.log(`${'-'.repeat(w[0]!)}-|-${'-'.repeat(w[1]!)}-|-${'-'.repeat(w[2]!)}-|--------`);
  for (const r of rows) console.log(`${r.name.padEnd(w[0]!)} | ${cell(r).padEnd(w[1]!)} | ${(r.target ?? '').padEnd(w[2]!)} | ${verdict(r)}`);
  console.log(`\nRun times: ${runs.map((r) => `${r.bench} ${r.seconds} s${r.code === 0 ? '' : ` (exit ${r.code})`}`).join(', ')}`);
}

/**
 * The real service as a child process (what `npm start` runs: main.ts under tsx), for tests that must
 * kill it the hard way. `start()` spawns `node --import tsx main.ts` — one process, no tsx wrapper
 * in between, so SIGKILL hits the service itself — and resolves once it logged "platform started"
 * and GET /health answers 200. `kill9()` is SIGKILL (no shutdown hooks, no flush); `start()` again
 * restarts it with the same env and DATA_DIR.
 *
 * The child never outlives the test: dispose() (call it in afterAll) kills it, an 'exit' handler
 * SIGKILLs it synchronously, and a detached watchdog shell holding a pipe from this process kills
 * it if this process dies without cleaning up (even by SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, exitOrKill, killGroupRemnants, killWatchdog, signalGroup, spawnShellWatchdog } from '../services/process-tools.ts';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface PlatformProcessOptions {
  /** Service env on top of the test defaults below (DATA_DIR is set by the helper unless given). */
  env: Record<string, string>;
  /** How long start() may take (spawn → "platform started" → healthy); default 60 s. */
  readyTimeoutMs?: number;
  /** Extra readiness condition on the GET /health body (default: status 200). */
  ready?: (health: HealthBody) => boolean;
  /** Node options before the script, e.g. ['--cpu-prof'] (flags NODE_OPTIONS does not take). */
  nodeArgs?: string[];
}

export interface HealthBody {
  status: 'ok' | 'degraded';
  components: Record<string, { ok: boolean; detail: string }>;
  counters: Record<string, unknown>;
}

export interface PlatformProcess {
  readonly dataDir: string;
  /** http://127.0.0.1:<port> of the current (or last) run's API. */
  apiUrl(): string;
  pid(): number | undefined;
  running(): boolean;
  /** Spawns the service and waits until it is ready. Throws (with the log tail) if it exits or times out. */
  start(): Promise<void>;
  /** SIGKILL to the service (and its process group); resolves once it has exited. */
  kill9(): Promise<void>;
  /** Graceful stop (SIGTERM), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Kills it if running and removes DATA_DIR. Idempotent. */
  dispose(): Promise<void>;
  /** GET /health of the running service. */
  health(): Promise<{ status: number; body: HealthBody }>;
  /** The last lines the service printed (stdout and stderr), for failure messages. */
  logTail(lines?: number): string;
}

const TEST_DEFAULTS: Record<string, string> = {
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: '0',
  MQTT_HOST: '127.0.0.1',
  MQTT_PORT: '0',
  LOG_LEVEL: 'info',
  MQTT_AUTH: 'none',
  ASSET_CODE_MODE: 'off',
  AUTH_MODE: 'off',
  STALE_AFTER_S: '0',
};

// every live child, for the synchronous exit handler
const live = new Set<ChildProcess>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const c of live) signalGroup(c, 'SIGKILL');
  });
}

/**
 * Detached sh blocked on a pipe from us: EOF (we died, however) → SIGKILL the child's group and
 * remove the data dir the helper made (empty `dir`: keep it).
 */
function spawnWatchdog(pid: number, dir: string): ChildProcess | undefined {
  const script = 'read -r _ignored; kill -KILL "-$1" 2>/dev/null; if [ -n "$2" ]; then sleep 0.5; rm -rf -- "$2"; fi';
  return spawnShellWatchdog('platform-process-watchdog', script, [String(pid), dir]);
}

export function platformProcess(opts: PlatformProcessOptions): PlatformProcess {
  const ownDir = opts.env.DATA_DIR === undefined;
  const dataDir = opts.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'om-proc-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dataDir,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    ...TEST_DEFAULTS,
    ...opts.env,
    DATA_DIR: dataDir,
  };
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let url: string | undefined;
  let disposed = false;

  function record(prefix: string, chunk: string, carry: { rest: string }): void {
    const text = carry.rest + chunk;
    const parts = text.split('\n');
    carry.rest = parts.pop() ?? '';
    for (const line of parts) {
      if (!line) continue;
      lines.push(`${prefix}${line}`);
      if (lines.length > 4000) lines.splice(0, lines.length - 2000); // the last 2,000 or more, trimmed now and then
      // only the line that gives the API's address is parsed (a busy service logs thousands a second)
      if (line.startsWith('{') && line.includes('"API listening"')) {
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          if (obj.msg === 'API listening' && typeof obj.apiUrl === 'string') url = obj.apiUrl;
        } catch {
          /* not JSON */
        }
      }
    }
  }

  const logTail = (n = 40): string => lines.slice(-n).join('\n');

  async function health(): Promise<{ status: number; body: HealthBody }> {
    if (!url) throw new Error('platform process: no API URL yet');
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as HealthBody };
  }

  function releaseWatchdog(): void {
    killWatchdog(watchdog);
    watchdog = undefined;
  }

  async function kill(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const c = child;
    if (!c) return;
    signalGroup(c, signal);
    await exitOrKill(c, graceMs, 10_000);
    // anything left in its process group (there should be nothing)
    killGroupRemnants(c.pid);
    live.delete(c);
    releaseWatchdog();
    child = undefined;
  }

  return {
    dataDir,
    apiUrl: () => {
      if (!url) throw new Error('platform process: not started');
      return url;
    },
    pid: () => child?.pid,
    running: () => child !== undefined && !exited(child),
    health,
    logTail,

    async start(): Promise<void> {
      if (disposed) throw new Error('platform process: disposed');
      if (child && !exited(child)) throw new Error('platform process: already running');
      url = undefined;
      const c = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'main.ts'], {
        cwd: REPO,
        env,
        detached: true, // own process group: kill9() takes anything it may have spawned with it
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      installExitHandler();
      live.add(c);
      if (c.pid !== undefined) watchdog = spawnWatchdog(c.pid, ownDir ? dataDir : '');
      let spawnError: Error | undefined;
      c.on('error', (err) => {
        spawnError = err;
      });
      c.on('exit', () => live.delete(c));
      const out = { rest: '' };
      const err = { rest: '' };
      c.stdout?.setEncoding('utf8').on('data', (s: string) => record('', s, out));
      c.stderr?.setEncoding('utf8').on('data', (s: string) => record('[stderr] ', s, err));

      const deadline = Date.now() + readyTimeoutMs;
      let last = 'no API URL logged yet';
      for (;;) {
        if (spawnError || exited(c)) {
          const why = spawnError ? spawnError.message : `exited (code ${String(c.exitCode)}, signal ${String(c.signalCode)})`;
          await kill('SIGKILL', 0);
          throw new Error(`platform process ${why} before it was ready\n--- log tail ---\n${logTail()}`);
        }
        if (Date.now() > deadline) {
          await kill('SIGKILL', 0);
          throw new Error(`platform process not ready within ${readyTimeoutMs} ms (${last})\n--- log tail ---\n${logTail()}`);
        }
        if (url) {
          try {
            const h = await health();
            if (h.status === 200 && (opts.ready?.(h.body) ?? true)) return;
            last = `health ${h.status}: ${JSON.stringify(h.body.components)}`;
          } catch (e) {
            last = `health: ${(e as Error).message}`;
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },

    kill9: () => kill('SIGKILL', 10_000),

    stop: (graceMs = 15_000) => kill('SIGTERM', graceMs),

    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await kill('SIGKILL', 10_000);
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * INGEST_THREAD=on: the ingest and rules roles in a worker thread of the same process, the API on the
 * main thread. Each thread has its own event loop and heap, so a burst of MQTT traffic (and its
 * garbage collection) does not hold up API requests; they share the database through PostgreSQL, as
 * separate processes do (change notifications keep the API's read cache right).
 *
 * This side starts the thread, asks it for its health, forwards to it what the API changes that the
 * thread holds in memory (assets, rules, a rule's state after a completed order, revoked device
 * credentials) and the API's MQTT publishes (engineer notifications), and stops it. The thread runs
 * the module `entry` names (the service's is ingest-thread.ts, next to main.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

/** What a thread reports for /health (the same shape as the API's HealthReport). */
export interface ThreadHealth {
  components: Record<string, { ok: boolean; detail: string }>;
  counters: Record<string, unknown>;
}

export type ToThread =
  | { type: 'health'; id: number }
  | { type: 'publish'; id: number; topic: string; payload: string }
  | { type: 'assetsChanged' }
  | { type: 'rulesChanged' }
  | { type: 'ruleStateChanged'; ruleId: string; assetId: string }
  | { type: 'credentialRevoked'; username: string }
  | { type: 'stop' };

export type FromThread =
  | { type: 'ready'; mqttUrl: string | undefined }
  | { type: 'failed'; message: string }
  | { type: 'health'; id: number; report: ThreadHealth }
  | { type: 'published'; id: number; error?: string }
  | { type: 'stopped' };

export interface RoleThread {
  /** mqtt://host:port of the embedded broker the thread runs, if any. */
  readonly mqttUrl: string | undefined;
  health(): Promise<ThreadHealth>;
  publish(topic: string, payload: string): Promise<void>;
  /** The API changed assets: the thread's asset directory forgets what it cached. */
  assetsChanged(): void;
  /** The API changed rules: the thread's engine re-reads them now, not at its next periodic re-read. */
  rulesChanged(): void;
  /** A completed order reset a rule's state for an asset in the database: the thread's engine drops its copy. */
  ruleStateChanged(ruleId: string, assetId: string): void;
  /** A device credential was revoked or its secret replaced: the thread's broker stops accepting the old one at once. */
  credentialRevoked(username: string): void;
  /** Up, or why not. */
  status(): { ok: boolean; detail: string };
  stop(): Promise<void>;
}

/** The worker's code: imports the entry module, through tsx's loader when it is TypeScript (how the service runs). */
function workerCode(entryUrl: URL): string {
  const entry = JSON.stringify(entryUrl.href);
  if (!entryUrl.pathname.endsWith('.ts')) return `import(${entry})`;
  // tsx's ESM API (its package's "import" export, which require.resolve would not pick)
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const tsx = JSON.stringify(pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api']!.import.default)).href);
  return `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); })`;
}

export async function startRoleThread(opts: {
  /** The module the thread runs: it starts the roles in `workerData.config` and answers ToThread messages. */
  entry: URL;
  config: Config;
  logger: Logger;
  /** The thread ended without being asked to (crash, uncaught error). */
  onExit?: (err: Error) => void;
  startTimeoutMs?: number;
  requestTimeoutMs?: number;
}): Promise<RoleThread> {
  const log = opts.logger.child({ module: 'role-thread' });
  const worker = new Worker(workerCode(opts.entry), { eval: true, workerData: { config: opts.config } });
  const pending = new Map<number, { resolve: (m: FromThread) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let nextId = 1;
  let stopping = false;
  let started = false;
  let ended: Error | undefined;
  let onStopped: (() => void) | undefined;

  const end = (err: Error): void => {
    if (ended) return;
    ended = err;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
    if (started && !stopping) {
      log.error({ err: err.message }, 'ingest thread ended');
      opts.onExit?.(err);
    }
  };

  const ready = new Promise<string | undefined>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingest thread not ready after ${opts.startTimeoutMs ?? 120_000} ms`)), opts.startTimeoutMs ?? 120_000);
    worker.on('message', (m: FromThread) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.mqttUrl);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`ingest thread failed to start: ${m.message}`));
      } else if (m.type === 'stopped') {
        onStopped?.();
      } else {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(m);
      }
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
      end(err);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      const err = new Error(`ingest thread exited (code ${code})`);
      reject(err);
      end(err);
    });
  });

  let mqttUrl: string | undefined;
  try {
    mqttUrl = await ready;
  } catch (err) {
    stopping = true;
    await worker.terminate();
    throw err;
  }
  started = true;
  log.info({ mqttUrl }, 'ingest and rules running in a worker thread');

  const tell = (msg: ToThread): void => {
    if (!ended) worker.postMessage(msg);
  };

  const request = (msg: ToThread & { id: number }): Promise<FromThread> => {
    if (ended) return Promise.reject(ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(msg.id);
        reject(new Error(`ingest thread did not answer "${msg.type}" within ${opts.requestTimeoutMs ?? 5000} ms`));
      }, opts.requestTimeoutMs ?? 5000);
      pending.set(msg.id, { resolve, reject, timer });
      worker.postMessage(msg);
    });
  };

  return {
    mqttUrl,
    async health() {
      const m = await request({ type: 'health', id: nextId++ });
      if (m.type !== 'health') throw new Error(`unexpected answer ${m.type}`);
      return m.report;
    },
    async publish(topic, payload) {
      const m = await request({ type: 'publish', id: nextId++, topic, payload });
      if (m.type === 'published' && m.error) throw new Error(m.error);
    },
    assetsChanged: () => tell({ type: 'assetsChanged' }),
    rulesChanged: () => tell({ type: 'rulesChanged' }),
    ruleStateChanged: (ruleId, assetId) => tell({ type: 'ruleStateChanged', ruleId, assetId }),
    credentialRevoked: (username) => tell({ type: 'credentialRevoked', username }),
    status: () => (ended ? { ok: false, detail: ended.message } : { ok: true, detail: 'ingest and rules in a worker thread' }),
    async stop() {
      if (stopping || ended) return;
      stopping = true;
      // the thread stops its platform (broker first, then drains and flushes) and says so; then it is ended
      const stopped = new Promise<void>((resolve) => (onStopped = resolve));
      worker.postMessage({ type: 'stop' } satisfies ToThread);
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 14_000).unref())]);
      await worker.terminate();
    },
  };
}

/**
 * Throwaway local PostgreSQL / InfluxDB 1.x / Mosquitto instances for tests.
 *
 * For each service:
 *  - if TEST_DATABASE_URL / TEST_INFLUX_URL / TEST_MOSQUITTO_URL is set, that URL is used as is;
 *  - else, if the server binary is installed, a private instance is started on a free
 *    127.0.0.1 port with its data in a fresh temp dir (removed again by stop());
 *  - else the service is reported in `missing` with an install hint.
 *
 * Child processes never outlive the test run: stop() terminates them, process
 * 'exit'/'SIGINT'/'SIGTERM' handlers signal them, and a tiny detached watchdog shell
 * (one per child, holding a pipe from this process) kills the child's process group and
 * removes its temp dir if this process dies without cleaning up (even on SIGKILL).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, accessSync, existsSync, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { connectAsync } from 'mqtt';
import { exitOrKill, killGroupRemnants, killWatchdog, signalGroup, spawnShellWatchdog } from './process-tools.ts';

export interface ServiceUrls {
  databaseUrl?: string;
  influxUrl?: string;
  mosquittoUrl?: string;
  /** Human-readable entries for services that are neither configured nor installed. */
  missing: string[];
}

export type ServiceName = 'databaseUrl' | 'influxUrl' | 'mosquittoUrl';

/** Human-readable name + install hint per service; used for `missing` and skip reasons. */
export const SERVICE_LABELS: Readonly<Record<ServiceName, string>> = {
  databaseUrl: 'PostgreSQL (apt-get install postgresql)',
  influxUrl: 'InfluxDB 1.x (apt-get install influxdb)',
  mosquittoUrl: 'Mosquitto (apt-get install mosquitto)',
};

const ENV_VARS: Readonly<Record<ServiceName, string>> = {
  databaseUrl: 'TEST_DATABASE_URL',
  influxUrl: 'TEST_INFLUX_URL',
  mosquittoUrl: 'TEST_MOSQUITTO_URL',
};

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------
// process bookkeeping
// ---------------------------------------------------------------------------

interface Managed {
  name: string;
  child: ChildProcess;
  /** Signal for a graceful stop (postgres: SIGINT = fast shutdown). */
  stopSignal: NodeJS.Signals;
  watchdog: ChildProcess | undefined;
  tempDir: string;
}

const live = new Set<Managed>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Synchronous last resort: signal the children. Their watchdogs see EOF on their
  // stdin as soon as this process is gone, escalate to SIGKILL and remove temp dirs.
  process.on('exit', () => {
    for (const m of live) {
      signalGroup(m.child, m.stopSignal);
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      for (const m of live) signalGroup(m.child, m.stopSignal);
      // Adding a listener disables Node's default "exit on signal"; if nobody else
      // (e.g. vitest) handles it, re-raise so the process still terminates.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

/** Children are spawned detached (own process group), so signal the whole group. */
/**
 * Detached `sh` that blocks reading a pipe from us. If we die (any way, including SIGKILL),
 * the pipe hits EOF and the shell terminates the child's process group and removes the
 * temp dir. On a normal stop() the watchdog is killed first, so it does nothing.
 */
function spawnWatchdog(pid: number, tempDir: string): ChildProcess | undefined {
  const script =
    // (dash's builtin kill wants `kill -SIG -PGID`, without `--`)
    'read -r _ignored; ' +
    'kill -TERM "-$1" 2>/dev/null; ' +
    'i=0; while kill -0 "-$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done; ' +
    'kill -KILL "-$1" 2>/dev/null; sleep 0.5; rm -rf -- "$2"';
  return spawnShellWatchdog('test-services-watchdog', script, [String(pid), tempDir]);
}

async function stopManaged(m: Managed): Promise<void> {
  killWatchdog(m.watchdog);
  signalGroup(m.child, m.stopSignal);
  await exitOrKill(m.child, STOP_GRACE_MS, 5_000);
  // postgres backends may outlive the postmaster by a moment; make sure the group is gone.
  killGroupRemnants(m.child.pid);
  live.delete(m);
  await rm(m.tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findInPath(bin: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, bin);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Debian layout (/usr/lib/postgresql/<ver>/bin, newest first), then PATH; undefined if not installed (tests skip on it). */
export function findPostgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = path.join(root, v, 'bin');
      if (isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'))) return dir;
    }
  }
  const initdb = findInPath('initdb');
  if (initdb && isExecutable(path.join(path.dirname(initdb), 'postgres'))) return path.dirname(initdb);
  return undefined;
}

/**
 * A port free now, below Linux's ephemeral range (32768–60999), so that no outgoing connection of the
 * test run can take it before the server started on it binds it (as one from listen(0) can: CI saw a
 * private influxd fail to start).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n').trimEnd();
  } catch {
    return '(no log output)';
  }
}

function runSync(cmd: string, args: string[], opts: { uid?: number | undefined; gid?: number | undefined; env?: NodeJS.ProcessEnv | undefined; logFile: string }): void {
  const fd = openSync(opts.logFile, 'a');
  try {
    execFileSync(cmd, args, { stdio: ['ignore', fd, fd], uid: opts.uid, gid: opts.gid, env: opts.env, timeout: STARTUP_TIMEOUT_MS });
  } catch (err) {
    throw new Error(`${path.basename(cmd)} failed: ${(err as Error).message}\n--- ${opts.logFile} (tail) ---\n${tail(opts.logFile)}`);
  } finally {
    closeSync(fd);
  }
}

interface LaunchSpec {
  name: string;
  cmd: string;
  args: string[];
  tempDir: string;
  logFile: string;
  stopSignal: NodeJS.Signals;
  uid?: number | undefined;
  gid?: number | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Resolves when the service answers; throws/rejects while it doesn't yet. */
  probe: () => Promise<void>;
}

/** Spawns the server (stdout+stderr → log file), waits until probe() succeeds. */
async function launch(spec: LaunchSpec): Promise<Managed> {
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.cmd, spec.args, {
      detached: true, // own process group: lets us kill postgres backends etc. as a group
      stdio: ['ignore', fd, fd],
      uid: spec.uid,
      gid: spec.gid,
      env: spec.env ?? process.env,
      cwd: spec.tempDir,
    });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  child.unref(); // never keep the test runner alive on our account

  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });

  const m: Managed = { name: spec.name, child, stopSignal: spec.stopSignal, watchdog: undefined, tempDir: spec.tempDir };
  installExitHandlers();
  live.add(m);
  if (child.pid !== undefined) m.watchdog = spawnWatchdog(child.pid, spec.tempDir);

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    if (spawnError) lastError = spawnError;
    const exited = spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      const why = exited
        ? `exited early (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`
        : `did not become ready within ${STARTUP_TIMEOUT_MS / 1000}s`;
      const last = lastError instanceof Error ? `\nlast probe error: ${lastError.message}` : '';
      const log = tail(spec.logFile);
      await stopManaged(m).catch(() => undefined);
      throw new Error(
        `${spec.name} ${why}: ${spec.cmd} ${spec.args.join(' ')}${last}\n--- ${spec.logFile} (tail) ---\n${log}`,
      );
    }
    try {
      await spec.probe();
      return m;
    } catch (err) {
      lastError = err;
    }
    await sleep(150);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Retries a launch with fresh ports if the server died because a port got taken meanwhile. */
async function withPortRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (i < 2 && /exited early/.test(msg) && /address already in use|could not bind|bind:/i.test(msg)) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

/** Server arguments shared by the shared and the private (restartable) instance. */
function postgresArgs(dataDir: string, port: number, socketDir: string, opts: { synchronousCommit: boolean }): string[] {
  return [
    '-D', dataDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', `unix_socket_directories=${socketDir}`,
    // fsync=off only risks data on an OS crash, never on a killed server process
    '-c', 'fsync=off',
    '-c', `synchronous_commit=${opts.synchronousCommit ? 'on' : 'off'}`,
    '-c', 'full_page_writes=off',
    '-c', 'max_connections=200',
    '-c', 'logging_collector=off',
  ];
}

async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A fresh temp dir with an initdb'd cluster in `data/` and an empty `postgres.log`. initdb/postgres
 * refuse to run as root: then they run as the `postgres` OS user (spawn with uid/gid, like
 * `runuser -u postgres`), which owns the temp dir.
 */
async function initPostgresCluster(binDir: string, prefix: string): Promise<{ tempDir: string; dataDir: string; logFile: string; owner: { uid: number; gid: number } | undefined; env: NodeJS.ProcessEnv }> {
  const tempDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    const dataDir = path.join(tempDir, 'data');
    const logFile = path.join(tempDir, 'postgres.log');
    await writeFile(logFile, '');
    let owner: { uid: number; gid: number } | undefined;
    if (isRoot()) {
      owner = osUser('postgres');
      if (!owner) throw new Error("PostgreSQL: running as root but there is no 'postgres' OS user to run initdb/postgres as");
      await chown(tempDir, owner.uid, owner.gid);
      await chown(logFile, owner.uid, owner.gid);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', HOME: tempDir };
    delete env.PGDATA;
    runSync(
      path.join(binDir, 'initdb'),
      ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { uid: owner?.uid, gid: owner?.gid, env, logFile },
    );
    return { tempDir, dataDir, logFile, owner, env };
  } catch (err) {
    await rm(tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    throw err;
  }
}

async function startPostgres(binDir: string): Promise<{ url: string; managed: Managed }> {
  return withPortRetry(async () => {
    const { tempDir, dataDir, logFile, owner, env } = await initPostgresCluster(binDir, 'test-pg-');
    try {
      const port = await freePort();
      const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
      const managed = await launch({
        name: 'PostgreSQL',
        cmd: path.join(binDir, 'postgres'),
        args: postgresArgs(dataDir, port, tempDir, { synchronousCommit: false }),
        tempDir,
        logFile,
        stopSignal: 'SIGINT', // "fast" shutdown
        uid: owner?.uid,
        gid: owner?.gid,
        env,
        probe: () => probePostgres(url),
      });
      return { url, managed };
    } catch (err) {
      await rm(tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------
// InfluxDB 1.x
// ---------------------------------------------------------------------------

async function startInflux(influxd: string): Promise<{ url: string; managed: Managed }> {
  return withPortRetry(async () => {
    const tempDir = await mkdtemp(path.join(os.tmpdir(), 'test-influx-'));
    try {
      const logFile = path.join(tempDir, 'influxd.log');
      const configFile = path.join(tempDir, 'influxdb.conf');
      const [httpPort, rpcPort] = [await freePort(), await freePort()];
      for (const d of ['meta', 'data', 'wal']) await mkdir(path.join(tempDir, d));
      const q = (s: string): string => JSON.stringify(s); // TOML basic strings ≈ JSON strings
      await writeFile(
        configFile,
        [
          'reporting-disabled = true',
          `bind-address = ${q(`127.0.0.1:${rpcPort}`)}`,
          '',
          '[meta]',
          `  dir = ${q(path.join(tempDir, 'meta'))}`,
          '',
          '[data]',
          `  dir = ${q(path.join(tempDir, 'data'))}`,
          `  wal-dir = ${q(path.join(tempDir, 'wal'))}`,
          '  query-log-enabled = false',
          '',
          '[monitor]',
          '  store-enabled = false',
          '',
          '[http]',
          '  enabled = true',
          `  bind-address = ${q(`127.0.0.1:${httpPort}`)}`,
          '  auth-enabled = false',
          '  log-enabled = false',
          '',
          '[logging]',
          '  level = "warn"',
          '',
          // [[graphite]], [[collectd]], [[opentsdb]], [[udp]] are disabled by default.
        ].join('\n') + '\n',
      );
      await writeFile(logFile, '');
      const url = `http://127.0.0.1:${httpPort}`;
      const managed = await launch({
        name: 'InfluxDB',
        cmd: influxd,
        args: ['run', '-config', configFile],
        tempDir,
        logFile,
        stopSignal: 'SIGTERM',
        env: { ...process.env, HOME: tempDir },
        probe: async () => {
          const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2_000) });
          await res.arrayBuffer();
          if (res.status !== 204) throw new Error(`/ping returned ${res.status}`);
        },
      });
      return { url, managed };
    } catch (err) {
      await rm(tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------
// Mosquitto
// ---------------------------------------------------------------------------

async function startMosquitto(mosquitto: string): Promise<{ url: string; managed: Managed }> {
  return withPortRetry(async () => {
    const tempDir = await mkdtemp(path.join(os.tmpdir(), 'test-mosquitto-'));
    try {
      const logFile = path.join(tempDir, 'mosquitto.log');
      const configFile = path.join(tempDir, 'mosquitto.conf');
      const port = await freePort();
      // As root, mosquitto drops privileges to the `mosquitto` user after reading its
      // config; logging to stderr (redirected by us into logFile) avoids permission issues.
      await writeFile(
        configFile,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence false',
          'log_dest stderr',
          'log_type error',
          'log_type warning',
          'log_type notice',
          'log_timestamp_format %Y-%m-%dT%H:%M:%S',
        ].join('\n') + '\n',
      );
      await writeFile(logFile, '');
      const url = `mqtt://127.0.0.1:${port}`;
      const managed = await launch({
        name: 'Mosquitto',
        cmd: mosquitto,
        args: ['-c', configFile],
        tempDir,
        logFile,
        stopSignal: 'SIGTERM',
        probe: async () => {
          const client = await withTimeout(
            connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2_000, clientId: `probe-${process.pid}-${Date.now()}` }),
            3_000,
            'MQTT connect',
          );
          await client.endAsync(true);
        },
      });
      return { url, managed };
    } catch (err) {
      await rm(tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------
// public entry point
// ---------------------------------------------------------------------------

type Starter = () => Promise<{ url: string; managed: Managed }>;

function envUrl(name: ServiceName): string | undefined {
  const v = process.env[ENV_VARS[name]];
  return v && v.trim() !== '' ? v.trim() : undefined;
}

/**
 * Starts (or discovers) the test services in parallel. Rejects with a diagnosable error
 * (including the server log tail) if an installed server fails to come up; in that case
 * any instances that did start are stopped again before rejecting.
 */
export async function startLocalServices(): Promise<{ urls: ServiceUrls; stop(): Promise<void> }> {
  const urls: ServiceUrls = { missing: [] };

  const pgBinDir = envUrl('databaseUrl') ? undefined : findPostgresBinDir();
  const influxd = envUrl('influxUrl') ? undefined : findInPath('influxd', ['/usr/bin', '/usr/local/bin']);
  const mosquitto = envUrl('mosquittoUrl') ? undefined : findInPath('mosquitto', ['/usr/sbin', '/usr/local/sbin']);

  const plan: [ServiceName, string | undefined, Starter | undefined][] = [
    ['databaseUrl', envUrl('databaseUrl'), pgBinDir ? () => startPostgres(pgBinDir) : undefined],
    ['influxUrl', envUrl('influxUrl'), influxd ? () => startInflux(influxd) : undefined],
    ['mosquittoUrl', envUrl('mosquittoUrl'), mosquitto ? () => startMosquitto(mosquitto) : undefined],
  ];

  const started: Managed[] = [];
  const failures: string[] = [];
  await Promise.all(
    plan.map(async ([name, fromEnv, start]) => {
      if (fromEnv) {
        urls[name] = fromEnv;
        return;
      }
      if (!start) {
        urls.missing.push(SERVICE_LABELS[name]);
        return;
      }
      try {
        const { url, managed } = await start();
        started.push(managed);
        urls[name] = url;
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }),
  );

  const stop = async (): Promise<void> => {
    const all = started.splice(0);
    await Promise.all(all.map((m) => stopManaged(m)));
  };

  if (failures.length > 0) {
    await stop();
    throw new Error(`Could not start local test services:\n\n${failures.join('\n\n')}`);
  }
  return { urls, stop };
}

// ---------------------------------------------------------------------------
// private, restartable Mosquitto (broker-restart tests)
// ---------------------------------------------------------------------------

/** A Mosquitto of one's own (not the shared one from startLocalServices) that can be stopped and started again. */
export interface PrivateMosquitto {
  readonly url: string;
  readonly port: number;
  /** true while the broker process runs. */
  running(): boolean;
  /** Graceful stop (SIGTERM; with persistence Mosquitto writes its database). Port and data dir are kept for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data dir (sessions and queued messages restored if persistent). */
  start(): Promise<void>;
  /** Stops it if running and removes its temp dir. Idempotent. */
  dispose(): Promise<void>;
}

/** Path of the mosquitto binary, or undefined if it is not installed. */
export function findMosquittoBinary(): string | undefined {
  return findInPath('mosquitto', ['/usr/sbin', '/usr/local/sbin']);
}

/**
 * Starts a private Mosquitto on a free 127.0.0.1 port. With `persistence: true` (the default) sessions,
 * subscriptions and queued QoS 1/2 messages are saved to its temp dir on SIGTERM and restored by start().
 * The process is covered by the same exit handlers and watchdog as the shared services.
 */
export async function startPrivateMosquitto(opts: { persistence?: boolean } = {}): Promise<PrivateMosquitto> {
  const mosquitto = findMosquittoBinary();
  if (!mosquitto) throw new Error(`startPrivateMosquitto: ${SERVICE_LABELS.mosquittoUrl} is not installed`);
  const persistence = opts.persistence ?? true;

  const launchOn = async (tempDir: string, port: number): Promise<Managed> => {
    const url = `mqtt://127.0.0.1:${port}`;
    return launch({
      name: 'Mosquitto (private)',
      cmd: mosquitto,
      args: ['-c', path.join(tempDir, 'mosquitto.conf')],
      tempDir,
      logFile: path.join(tempDir, 'mosquitto.log'),
      stopSignal: 'SIGTERM',
      probe: async () => {
        const client = await withTimeout(
          connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2_000, clientId: `probe-${process.pid}-${Date.now()}` }),
          3_000,
          'MQTT connect',
        );
        await client.endAsync(true);
      },
    });
  };

  const first = await withPortRetry(async () => {
    const tempDir = await mkdtemp(path.join(os.tmpdir(), 'test-mosquitto-private-'));
    try {
      const port = await freePort();
      await writeFile(
        path.join(tempDir, 'mosquitto.conf'),
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          persistence ? 'persistence true' : 'persistence false',
          ...(persistence ? [`persistence_location ${tempDir}/`] : []),
          'log_dest stderr',
          'log_type error',
          'log_type warning',
          'log_type notice',
          'log_timestamp_format %Y-%m-%dT%H:%M:%S',
        ].join('\n') + '\n',
      );
      await writeFile(path.join(tempDir, 'mosquitto.log'), '');
      // As root, mosquitto drops to the `mosquitto` user, which must be able to write the persistence file.
      const owner = isRoot() ? osUser('mosquitto') : undefined;
      if (owner) await chown(tempDir, owner.uid, owner.gid);
      return { tempDir, port, managed: await launchOn(tempDir, port) };
    } catch (err) {
      await rm(tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      throw err;
    }
  });

  const { tempDir, port } = first;
  let current: Managed | undefined = first.managed;
  let disposed = false;

  /** Like stopManaged() but keeps the temp dir (the persistence database lives there). */
  const halt = async (m: Managed): Promise<void> => {
    killWatchdog(m.watchdog);
    signalGroup(m.child, m.stopSignal);
    await exitOrKill(m.child, STOP_GRACE_MS, 5_000);
    live.delete(m);
  };

  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    running: () => current !== undefined && current.child.exitCode === null && current.child.signalCode === null,
    stop: async () => {
      const m = current;
      current = undefined;
      if (m) await halt(m);
    },
    start: async () => {
      if (disposed) throw new Error('startPrivateMosquitto: already disposed');
      if (current) return;
      current = await launchOn(tempDir, port);
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      const m = current;
      current = undefined;
      if (m) await stopManaged(m); // also removes tempDir
      await rm(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

// ---------------------------------------------------------------------------
// private, restartable PostgreSQL (database-outage tests)
// ---------------------------------------------------------------------------

/**
 * How stop() takes the server down:
 *  - 'fast': SIGINT to the postmaster (`pg_ctl stop -m fast`): sessions are terminated, open
 *    transactions roll back, a clean checkpoint is written;
 *  - 'immediate': SIGQUIT to the postmaster (`pg_ctl stop -m immediate`): everything exits at once,
 *    the next start runs crash recovery;
 *  - 'kill': SIGKILL to the whole process group (OOM killer, power cut of the server process).
 */
export type PostgresStopMode = 'fast' | 'immediate' | 'kill';

/** A PostgreSQL of one's own (not the shared one from startLocalServices) that can be stopped and started again. */
export interface PrivatePostgres {
  /** postgresql://postgres@127.0.0.1:<port>/postgres (trust auth). */
  readonly url: string;
  readonly port: number;
  /** true while the postmaster runs. */
  running(): boolean;
  /** Takes the server down (default 'fast'). Port and data dir are kept for start(). */
  stop(mode?: PostgresStopMode): Promise<void>;
  /** Starts it again on the same port with the same data dir (crash recovery after 'immediate'/'kill'). */
  start(): Promise<void>;
  /** Stops it if running and removes its temp dir. Idempotent. */
  dispose(): Promise<void>;
  /** Tail of the server log (for failure messages). */
  log(lines?: number): string;
}

/**
 * Detached `sh` that removes `dir` once this process is gone (its stdin pipe hits EOF). Covers a
 * private server's data dir while the server is stopped and there is no process watchdog.
 */
function spawnDirWatchdog(dir: string): ChildProcess | undefined {
  return spawnShellWatchdog('test-services-dir-watchdog', 'read -r _ignored; rm -rf -- "$1"', [dir]);
}

/**
 * Starts a private PostgreSQL on a free 127.0.0.1 port with its cluster in a fresh temp dir.
 * Unlike the shared instance it runs with synchronous_commit=on: a commit the client saw survives a
 * killed server (fsync stays off, which only matters if the OS itself crashes). The process is
 * covered by the same exit handlers and watchdogs as the shared services, also while stopped.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const binDir = findPostgresBinDir();
  if (!binDir) throw new Error(`startPrivatePostgres: ${SERVICE_LABELS.databaseUrl} is not installed`);

  const postgres = path.join(binDir, 'postgres');
  type Cluster = Awaited<ReturnType<typeof initPostgresCluster>>;
  const launchOn = (c: Cluster, port: number): Promise<Managed> => {
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    return launch({
      name: 'PostgreSQL (private)',
      cmd: postgres,
      args: postgresArgs(c.dataDir, port, c.tempDir, { synchronousCommit: true }),
      tempDir: c.tempDir,
      logFile: c.logFile,
      stopSignal: 'SIGINT',
      uid: c.owner?.uid,
      gid: c.owner?.gid,
      env: c.env,
      probe: () => probePostgres(url),
    });
  };

  const first = await withPortRetry(async () => {
    const cluster = await initPostgresCluster(binDir, 'test-pg-private-');
    try {
      const port = await freePort();
      return { ...cluster, port, managed: await launchOn(cluster, port) };
    } catch (err) {
      await rm(cluster.tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
      throw err;
    }
  });

  const { port, tempDir, logFile } = first;
  let current: Managed | undefined = first.managed;
  let dirWatchdog: ChildProcess | undefined;
  let disposed = false;

  /** Takes the server down but keeps the temp dir (the cluster lives there). */
  const halt = async (m: Managed, mode: PostgresStopMode): Promise<void> => {
    // the temp dir stays covered while no server (and so no process watchdog) is running
    dirWatchdog ??= spawnDirWatchdog(tempDir);
    killWatchdog(m.watchdog);
    const pid = m.child.pid;
    if (mode === 'kill') signalGroup(m.child, 'SIGKILL');
    else if (pid !== undefined && m.child.exitCode === null && m.child.signalCode === null) {
      // only the postmaster: it terminates its backends itself (signalling the group would send
      // SIGINT = "cancel query" / SIGQUIT to every backend first, which is not what pg_ctl does)
      try {
        process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
      } catch {
        /* already gone */
      }
    }
    await exitOrKill(m.child, STOP_GRACE_MS, 5_000);
    // no backend may outlive the postmaster: the next start would find their shared memory in use
    killGroupRemnants(pid);
    live.delete(m);
  };

  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    running: () => current !== undefined && current.child.exitCode === null && current.child.signalCode === null,
    log: (lines = 40) => tail(logFile, lines),
    stop: async (mode = 'fast') => {
      const m = current;
      current = undefined;
      if (m) await halt(m, mode);
    },
    start: async () => {
      if (disposed) throw new Error('startPrivatePostgres: already disposed');
      if (current) return;
      current = await launchOn(first, port);
      // the new server process has its own watchdog (which also removes the temp dir)
      killWatchdog(dirWatchdog);
      dirWatchdog = undefined;
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      const m = current;
      current = undefined;
      if (m) await halt(m, 'fast');
      killWatchdog(dirWatchdog);
      dirWatchdog = undefined;
      await rm(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

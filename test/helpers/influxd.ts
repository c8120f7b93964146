/**
 * A private InfluxDB 1.x that a test can stop and start again on the same port and data directory
 * (for outage tests). Killed in stop(); the test must call dispose() in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../services/local-services.ts';

export async function restartableInfluxd(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void>; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'test-influxd-restart-'));
  for (const d of ['meta', 'data', 'wal']) mkdirSync(join(dir, d));
  const config = join(dir, 'influxdb.conf');
  let url = '';
  const configure = async (): Promise<void> => {
    const [httpPort, rpcPort] = [await freePort(), await freePort()];
    writeFileSync(
      config,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${join(dir, 'meta')}"`,
        '[data]',
        `  dir = "${join(dir, 'data')}"`,
        `  wal-dir = "${join(dir, 'wal')}"`,
        '  query-log-enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${httpPort}"`,
        '  log-enabled = false',
        '[logging]',
        '  level = "error"',
      ].join('\n') + '\n',
    );
    url = `http://127.0.0.1:${httpPort}`;
  };
  let child: ChildProcess | undefined;
  const kill = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', kill);

  async function start(): Promise<void> {
    const c = spawn('influxd', ['run', '-config', config], { stdio: 'ignore', env: { ...process.env, HOME: dir } });
    child = c;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`influxd exited before it was ready (${c.exitCode ?? c.signalCode}); port taken?`);
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
        if (res.status === 204) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('influxd did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
    child = undefined;
  }

  // the first start picks the ports (again, if influxd could not bind them); restarts keep them
  for (let attempt = 1; ; attempt++) {
    await configure();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 3 || !(err as Error).message.startsWith('influxd exited')) throw err;
    }
  }
  return {
    url,
    start,
    stop,
    async dispose() {
      await stop();
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A private InfluxDB 1.x that a test can stop and start again on the same port and data directory
 * (for outage tests). Killed in stop(); the test must call dispose() in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function restartableInfluxd(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void>; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'test-influxd-restart-'));
  for (const d of ['meta', 'data', 'wal']) mkdirSync(join(dir, d));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const config = join(dir, 'influxdb.conf');
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
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  const kill = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', kill);

  async function start(): Promise<void> {
    child = spawn('influxd', ['run', '-config', config], { stdio: 'ignore', env: { ...process.env, HOME: dir } });
    const deadline = Date.now() + 20_000;
    for (;;) {
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

  await start();
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

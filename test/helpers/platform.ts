/** Starts the real platform (main.ts wiring) for integration tests on free ports. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startPlatform, type Platform } from '../../main.ts';
import { loadConfig } from '../../platform/config.ts';

export async function startTestPlatform(env: Record<string, string | undefined>): Promise<Platform & { cleanup(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'om-test-'));
  const config = loadConfig({
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    DATA_DIR: dataDir,
    TELEMETRY_FLUSH_MS: '100',
    LOG_LEVEL: 'silent',
    // suites about the pipeline publish anonymously; device auth has its own suite (and the demo test)
    MQTT_AUTH: 'none',
    // suites that are not about asset codes use short free codes; the asset suite turns the convention on
    ASSET_CODE_MODE: 'off',
    // suites about other features call the API without logging in; the access-control suite turns it on
    AUTH_MODE: 'off',
    // suites look into the platform's pipeline, broker and engine: one thread (ingest-thread.test.ts runs two)
    INGEST_THREAD: 'off',
    ...env,
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const platform = await startPlatform(config, { logger });
  return Object.assign(platform, {
    async cleanup() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Polls `fn` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** JSON over HTTP against the running API. */
export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

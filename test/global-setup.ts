/**
 * Vitest globalSetup: starts (or discovers) PostgreSQL / InfluxDB / Mosquitto once per run
 * and provides their URLs to test files via `inject('services')`
 * (see test/helpers/services.ts).
 *
 * REQUIRE_SERVICES=1 (set by .ci/run) turns "service not installed" from a skip into a
 * hard failure.
 */
import type { TestProject } from 'vitest/node';
import { startLocalServices, type ServiceUrls } from './services/local-services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServiceUrls;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { urls, stop } = await startLocalServices();

  if (process.env.REQUIRE_SERVICES === '1' && urls.missing.length > 0) {
    await stop();
    throw new Error(
      `REQUIRE_SERVICES=1 but these test services are unavailable:\n  - ${urls.missing.join('\n  - ')}\n` +
        'Install them, or point TEST_DATABASE_URL / TEST_INFLUX_URL / TEST_MOSQUITTO_URL at running instances.',
    );
  }

  const used = [
    `postgres=${urls.databaseUrl ?? 'none'}`,
    `influx=${urls.influxUrl ?? 'none'}`,
    `mqtt=${urls.mosquittoUrl ?? 'none'}`,
  ].join(' ');
  const missing = urls.missing.length > 0 ? ` (missing: ${urls.missing.join('; ')})` : '';
  console.log(`[test services] ${used}${missing}`);

  project.provide('services', urls);

  return async () => {
    await stop();
  };
}

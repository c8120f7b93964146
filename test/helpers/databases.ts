/**
 * Per-test (or per-file) isolated databases on the shared test servers.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

function randomName(): string {
  return `t_${randomBytes(8).toString('hex')}`;
}

/**
 * CREATE DATABASE t_<random hex> on the server behind `baseUrl`; returns a URL pointing at it
 * (same credentials/host/params) and drop(), which force-drops it (terminating open sessions).
 */
export async function createTestDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = randomName();
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: baseUrl });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  await admin(`CREATE DATABASE "${name}"`);

  const url = new URL(baseUrl);
  url.pathname = `/${name}`;

  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

async function influxQuery(influxUrl: string, q: string): Promise<void> {
  const res = await fetch(new URL('/query', influxUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxDB ${q} → HTTP ${res.status}: ${text}`);
  // InfluxQL reports statement errors with HTTP 200 and {"results":[{"error":...}]}
  const body = JSON.parse(text) as { error?: string; results?: { error?: string }[] };
  const err = body.error ?? body.results?.find((r) => r.error)?.error;
  if (err) throw new Error(`InfluxDB ${q} → ${err}`);
}

/** CREATE DATABASE t_<random hex> on an InfluxDB 1.x server; drop() removes it again. */
export async function createTestInfluxDb(influxUrl: string): Promise<{ db: string; drop(): Promise<void> }> {
  const db = randomName();
  await influxQuery(influxUrl, `CREATE DATABASE "${db}"`);
  let dropped = false;
  return {
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await influxQuery(influxUrl, `DROP DATABASE "${db}"`);
    },
  };
}

/**
 * A fresh PostgreSQL database and InfluxDB database on the shared test servers, their drops pushed
 * onto `cleanups` (the suite runs them in afterAll).
 */
export async function createTestStores(
  urls: { databaseUrl: string; influxUrl: string },
  cleanups: (() => Promise<unknown>)[],
): Promise<{ databaseUrl: string; influxUrl: string; influxDb: string }> {
  const pgDb = await createTestDatabase(urls.databaseUrl);
  cleanups.push(() => pgDb.drop());
  const influx = await createTestInfluxDb(urls.influxUrl);
  cleanups.push(() => influx.drop());
  return { databaseUrl: pgDb.url, influxUrl: urls.influxUrl, influxDb: influx.db };
}

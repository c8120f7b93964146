/**
 * npm run backtest -- --rule <id> [--asset <id> | --asset-type <type>] --from <ISO> [--to <ISO>] [--json]
 * npm run backtest -- --draft rule.json --asset-type pump --from 2026-01-01T00:00:00Z
 * Replays stored telemetry (the stores configured by the environment, as for the service) through a
 * saved or draft rule and prints the work orders it would have produced. Creates nothing.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createEmbeddedStore } from '../ingest/telemetry-store/embedded.ts';
import { createInfluxStore } from '../ingest/telemetry-store/influx.ts';
import { loadConfig } from '../platform/config.ts';
import { openDatabase } from '../platform/db/database.ts';
import { createRuleService } from './service.ts';

const { values } = parseArgs({
  options: {
    rule: { type: 'string' },
    draft: { type: 'string' },
    asset: { type: 'string' },
    'asset-type': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (!values.from || (!values.rule && !values.draft)) {
  console.error('usage: npm run backtest -- (--rule <id> | --draft <file.json>) [--asset <id> | --asset-type <type>] --from <ISO> [--to <ISO>] [--json]');
  process.exit(2);
}
const config = loadConfig();
const logger = pino({ level: 'warn' });
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
const storeOpts = { batchSize: config.telemetryBatchSize, flushMs: config.telemetryFlushMs, maxBuffered: config.telemetryMaxBuffered, logger };
const store = config.influxUrl
  ? await createInfluxStore({ ...storeOpts, url: config.influxUrl, database: config.influxDatabase, token: config.influxToken, username: config.influxUsername, password: config.influxPassword, createDatabase: false })
  : createEmbeddedStore({ ...storeOpts, prisma: db.prisma });

const bar = (done: number, total: number, readings: number): void => {
  if (values.json || !process.stderr.isTTY) return;
  const width = 30;
  const filled = Math.round((done / Math.max(1, total)) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} assets, ${readings} readings`);
};

try {
  const result = await createRuleService({ prisma: db.prisma }).backtest(
    {
      ruleId: values.rule,
      draft: values.draft ? JSON.parse(readFileSync(values.draft, 'utf8')) : undefined,
      assetId: values.asset,
      assetType: values['asset-type'],
      from: new Date(values.from),
      to: values.to ? new Date(values.to) : new Date(),
    },
    store,
    bar,
  );
  if (process.stderr.isTTY && !values.json) process.stderr.write('\n');
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`${result.rule.name} (v${result.rule.version}, ${result.rule.kind}) ${result.from.toISOString()} → ${result.to.toISOString()}`);
    console.log(`${result.assets} assets, ${result.readings} readings, ${result.workOrders.length} work orders, alarms raised ${result.alarms.raised} / cleared ${result.alarms.cleared}, ${result.durationMs} ms`);
    for (const o of result.workOrders) console.log(`  ${o.requestedAt.toISOString()}  ${o.assetCode.padEnd(24)} ${o.priority.padEnd(7)} ${o.explanation.summary}`);
    console.log(`assumptions: ${result.assumptions.join('; ')}`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await store.close();
  await db.close();
}

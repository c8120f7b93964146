/**
 * OPC-UA through the whole platform: a simulated PLC (real node-opcua server) → OPCUA_CONFIG →
 * the same pipeline as MQTT → telemetry store + rules → one work order; endpoint status in /health.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpcUaSimulator, type OpcUaSimulator } from '../../simulators/opcua-server.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('OPC-UA ingest in the platform (embedded stores)', () => {
  let dir: string;
  let plc: OpcUaSimulator;
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let assetId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'om-opcua-'));
    plc = await startOpcUaSimulator({ port: await freePort(), pkiDir: join(dir, 'plc-pki'), points: [{ asset: 'COMP-7', metric: 'pressure' }, { asset: 'COMP-7', metric: 'runHours' }] });
    const mapping = {
      endpoints: [
        {
          name: 'line-1',
          url: plc.url,
          samplingIntervalMs: 50,
          publishingIntervalMs: 100,
          nodes: [
            { nodeId: plc.nodeId('COMP-7', 'pressure'), site: 'P1', asset: 'COMP-7', metric: 'pressure', unit: 'bar', scale: 0.01 },
            { nodeId: plc.nodeId('COMP-7', 'runHours'), site: 'P1', asset: 'COMP-7', metric: 'runHours' },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'opcua.json'), JSON.stringify(mapping));
    platform = await startTestPlatform({ OPCUA_CONFIG: join(dir, 'opcua.json'), DATA_DIR: dir });
    const site = await platform.db.prisma.site.create({ data: { code: 'P1', name: 'P1' } });
    assetId = (await platform.db.prisma.asset.create({ data: { code: 'COMP-7', name: 'Compressor 7', type: 'compressor', siteId: site.id } })).id;
    await platform.db.prisma.rule.create({
      data: {
        name: 'Discharge pressure high',
        kind: 'threshold',
        assetId,
        definition: { schemaVersion: 1, metric: 'pressure', operator: '>', value: 9, holdSeconds: 0, hysteresis: 0.5, severity: 'critical', priority: 'urgent' },
      },
    });
    await platform.engine.reload();
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
    await plc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the endpoint in /health', async () => {
    const h = await eventually(async () => {
      const r = await api<{ components: Record<string, { ok: boolean; detail: string }> }>(platform.apiUrl!, 'GET', '/health');
      return r.body.components['opcua:line-1']?.ok && r.body.components['opcua:line-1'];
    });
    expect(h.detail).toContain(plc.url);
  });

  it('values become telemetry (scaled) and a breach becomes one work order', async () => {
    plc.set('COMP-7', 'pressure', 650); // 6.5 bar
    await eventually(async () => {
      const r = await api<{ points: { value: number }[] }>(platform.apiUrl!, 'GET', `/assets/${assetId}/telemetry?metric=pressure`);
      return r.body.points.some((p) => Math.abs(p.value - 6.5) < 1e-9);
    });
    for (const v of [950, 970, 990]) {
      plc.set('COMP-7', 'pressure', v);
      await new Promise((r) => setTimeout(r, 150));
    }
    const wo = await eventually(async () => (await platform.db.prisma.workOrder.findMany({ where: { assetId } }))[0]);
    expect(wo).toMatchObject({ source: 'rule', priority: 'urgent', status: 'open' });
    await platform.pipeline!.drain();
    expect(await platform.db.prisma.workOrder.count({ where: { assetId } })).toBe(1);
  });
});

/**
 * OPC-UA ingest against a real node-opcua server running in this process, through the real
 * node-opcua client: subscriptions with scaling, bad quality, server stop + restart on the same port
 * (re-subscribe), polling, fallback to polling when the server refuses subscriptions, an endpoint
 * that is down at start, and SignAndEncrypt with user/password. Certificates live in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  Variant,
  type StatusCode,
  type UAVariable,
} from 'node-opcua';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseOpcUaConfig } from '../../ingest/opcua/config.ts';
import { routeNodeOpcuaLogs, startOpcUaIngest, type EndpointStatus, type OpcUaIngest, type OpcUaValue } from '../../ingest/opcua/connector.ts';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
routeNodeOpcuaLogs(logger); // node-opcua's console warnings (server and client side) → the test logger
let tmp: string;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function eventually<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const VARIABLES = { Temperature: DataType.Double, RunHours: DataType.Double, Running: DataType.Boolean } as const;
type VariableName = keyof typeof VARIABLES;

interface TestServer {
  port: number;
  /** `ns=<own namespace>;s=Pump1.<name>` */
  nodeId(name: VariableName): string;
  set(name: VariableName, value: number | boolean, status?: StatusCode): void;
  stop(): Promise<void>;
}

/** A fresh OPCUAServer exposing Objects/Pump1/{Temperature,RunHours,Running} with the same nodeIds every time. */
async function startTestServer(
  port: number,
  opts: { users?: Record<string, string>; secureOnly?: boolean; refuseSubscriptions?: boolean } = {},
): Promise<TestServer> {
  const server = new OPCUAServer({
    port,
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: join(tmp, 'server-pki'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true }),
    // without this the server creates $HOME/.config/node-opcua-default-nodejs/UserPKI
    userCertificateManager: new OPCUACertificateManager({ rootFolder: join(tmp, 'server-user-pki'), disableFileWatchers: true }),
    ...(opts.users ? { allowAnonymous: false, userManager: { isValidUser: (u: string, p: string) => opts.users?.[u] === p } } : {}),
    ...(opts.secureOnly ? { securityModes: [MessageSecurityMode.SignAndEncrypt], securityPolicies: [SecurityPolicy.Basic256Sha256] } : {}),
  });
  await server.initialize();
  if (opts.refuseSubscriptions) server.engine.serverCapabilities.maxSubscriptionsPerSession = 0;
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const pump = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Pump1' });
  const vars = {} as Record<VariableName, UAVariable>;
  for (const [name, dataType] of Object.entries(VARIABLES) as [VariableName, DataType][]) {
    vars[name] = ns.addVariable({
      componentOf: pump,
      browseName: name,
      nodeId: `s=Pump1.${name}`,
      dataType: DataType[dataType],
      minimumSamplingInterval: 50,
      value: new Variant({ dataType, value: dataType === DataType.Boolean ? false : 0 }),
    });
  }
  await server.start();
  return {
    port,
    nodeId: (name) => `ns=${ns.index};s=Pump1.${name}`,
    set(name, value, status = StatusCodes.Good) {
      vars[name].setValueFromSource(new Variant({ dataType: VARIABLES[name], value }), status, new Date());
    },
    stop: () => server.shutdown(0),
  };
}

function endpointConfig(name: string, server: { port: number; nodeId(n: VariableName): string }, extra: Record<string, unknown> = {}) {
  return {
    name,
    url: `opc.tcp://127.0.0.1:${server.port}`,
    samplingIntervalMs: 50,
    publishingIntervalMs: 100,
    pollIntervalMs: 100,
    nodes: [
      { nodeId: server.nodeId('Temperature'), site: 'plant-1', asset: 'PUMP-0001', metric: 'temperature', unit: '°C', scale: 0.1, offset: -2 },
      { nodeId: server.nodeId('RunHours'), site: 'plant-1', asset: 'PUMP-0001', metric: 'runHours', unit: 'h' },
      { nodeId: server.nodeId('Running'), site: 'plant-1', asset: 'PUMP-0001', metric: 'running' },
    ],
    ...extra,
  };
}

/** Starts the connector with fast reconnection and records every value. */
async function startIngest(endpoints: unknown[]): Promise<{ ingest: OpcUaIngest; values: OpcUaValue[]; status(name: string): EndpointStatus }> {
  const values: OpcUaValue[] = [];
  const ingest = await startOpcUaIngest({
    config: parseOpcUaConfig({ endpoints }),
    logger,
    pkiDir: join(tmp, 'client-pki'),
    onValue: (v) => values.push(v),
    reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 },
    statsIntervalMs: 0,
  });
  running.push(ingest);
  return { ingest, values, status: (name) => ingest.status().find((s) => s.name === name)! };
}

const running: OpcUaIngest[] = [];
const servers: TestServer[] = [];
const track = (s: TestServer): TestServer => (servers.push(s), s);
const find = (values: OpcUaValue[], metric: string, value: number, from = 0) =>
  values.slice(from).find((v) => v.metric === metric && Math.abs(v.value - value) < 1e-9);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'opcua-it-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop().catch(() => undefined)));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('OPC-UA ingest (real node-opcua server and client)', () => {
  it('subscribes, scales, skips bad quality, and re-subscribes after the server is stopped and started again on the same port', async () => {
    const port = await freePort();
    const first = track(await startTestServer(port));
    const { values, status } = await startIngest([endpointConfig('line1', first)]);

    await eventually('connected with 3 monitored items', () => status('line1').connected && status('line1').monitoredItems === 3);
    expect(status('line1')).toMatchObject({ mode: 'subscribe', pollingFallback: false, reconnects: 0, url: `opc.tcp://127.0.0.1:${port}` });

    first.set('Temperature', 215); // 215 * 0.1 - 2
    first.set('RunHours', 512.5);
    first.set('Running', true);
    const temp = await eventually('scaled temperature', () => find(values, 'temperature', 19.5));
    expect(temp).toMatchObject({ site: 'plant-1', asset: 'PUMP-0001', endpoint: 'line1' });
    expect(temp.ts).toBeInstanceOf(Date);
    expect(Math.abs(temp.ts.getTime() - Date.now())).toBeLessThan(5_000);
    await eventually('run hours', () => find(values, 'runHours', 512.5));
    await eventually('boolean → 1', () => find(values, 'running', 1));
    expect(status('line1').lastValueAt).toBeInstanceOf(Date);

    const badBefore = status('line1').badValues;
    first.set('Temperature', 999, StatusCodes.BadSensorFailure);
    await eventually('bad value counted', () => status('line1').badValues > badBefore);
    expect(find(values, 'temperature', 999 * 0.1 - 2)).toBeUndefined();

    // stop the server: the endpoint reports the outage and stays down while the port is closed
    await first.stop();
    await eventually('disconnected', () => !status('line1').connected);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(status('line1').connected).toBe(false);
    expect(status('line1').lastError).toBeTruthy();
    const mark = values.length;

    // a new server process on the same port, same nodeIds, new values
    const second = track(await startTestServer(port));
    second.set('Temperature', 300);
    second.set('RunHours', 513.25);
    await eventually('reconnected', () => status('line1').connected, 15_000);
    await eventually('values after restart', () => find(values, 'temperature', 28, mark) && find(values, 'runHours', 513.25, mark), 10_000);
    second.set('Running', false);
    await eventually('live updates after restart', () => find(values, 'running', 0, mark));
    expect(status('line1')).toMatchObject({ connected: true, mode: 'subscribe', monitoredItems: 3 });
    expect(status('line1').reconnects).toBeGreaterThanOrEqual(1);
  });

  it('polls every pollIntervalMs and emits each sample once', async () => {
    const server = track(await startTestServer(await freePort()));
    const { values, status } = await startIngest([endpointConfig('poller', server, { mode: 'poll' })]);
    await eventually('connected', () => status('poller').connected);
    server.set('RunHours', 42);
    server.set('Temperature', 100);
    await eventually('polled run hours', () => find(values, 'runHours', 42));
    await eventually('polled temperature', () => find(values, 'temperature', 8));
    await new Promise((r) => setTimeout(r, 500)); // ~5 more polls of unchanged values
    expect(values.filter((v) => v.metric === 'runHours' && v.value === 42)).toHaveLength(1);
    server.set('RunHours', 43);
    await eventually('next sample', () => find(values, 'runHours', 43));
    expect(status('poller')).toMatchObject({ mode: 'poll', pollingFallback: false, monitoredItems: 0, connected: true });
  });

  it('falls back to polling when the server refuses to create a subscription', async () => {
    const server = track(await startTestServer(await freePort(), { refuseSubscriptions: true }));
    const { values, status } = await startIngest([endpointConfig('nosubs', server)]);
    await eventually('connected', () => status('nosubs').connected);
    server.set('Temperature', 250);
    await eventually('value via polling', () => find(values, 'temperature', 23));
    const s = status('nosubs');
    expect(s).toMatchObject({ mode: 'poll', pollingFallback: true, monitoredItems: 0 });
    expect(s.lastError).toMatch(/subscription failed.*BadTooManySubscriptions.*polling/);
  });

  it('reports a nodeId the server does not have (subscribe and poll) while the other nodes keep flowing', async () => {
    const server = track(await startTestServer(await freePort()));
    const missing = { nodeId: server.nodeId('Temperature').replace('Temperature', 'Missing'), site: 'plant-1', asset: 'PUMP-0001', metric: 'vibration' };
    const withMissing = (name: string, extra: Record<string, unknown>) => {
      const ep = endpointConfig(name, server, extra);
      return { ...ep, nodes: [...ep.nodes.map((n) => ({ ...n, site: `site-${name}` })), { ...missing, site: `site-${name}` }] };
    };
    const { values, status } = await startIngest([withMissing('sub', {}), withMissing('poll', { mode: 'poll' })]);
    await eventually('both connected', () => status('sub').connected && status('poll').connected);
    server.set('RunHours', 99);
    await eventually('values from both', () => values.some((v) => v.endpoint === 'sub' && v.value === 99) && values.some((v) => v.endpoint === 'poll' && v.value === 99));
    expect(status('sub').monitoredItems).toBe(3);
    expect(status('sub').lastError).toMatch(/monitored items rejected: .*Pump1\.Missing BadNodeIdUnknown/);
    await eventually('poll reports the missing node', () => /Pump1\.Missing: status BadNodeIdUnknown/.test(status('poll').lastError ?? ''));
    expect(status('poll').badValues).toBeGreaterThan(0);
  });

  it('starts while the endpoint is down, then connects with SignAndEncrypt + username/password; a wrong password is reported, not fatal', async () => {
    const port = await freePort();
    const secured = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' };
    const target = { port, nodeId: (n: VariableName) => `ns=1;s=Pump1.${n}` };
    const { values, status } = await startIngest([
      endpointConfig('secure', target, { ...secured, username: 'operator', password: 's3cret' }),
      endpointConfig('wrongpw', target, { ...secured, username: 'operator', password: 'nope', nodes: [{ nodeId: target.nodeId('RunHours'), site: 'plant-2', asset: 'X', metric: 'runHours' }] }),
    ]);
    await eventually('retrying in the background', () => status('secure').lastError?.includes('cannot reach'), 5_000);
    expect(status('secure').connected).toBe(false);

    const server = track(await startTestServer(port, { users: { operator: 's3cret' }, secureOnly: true }));
    expect(server.nodeId('RunHours')).toBe(target.nodeId('RunHours'));
    server.set('RunHours', 7);
    await eventually('secure endpoint connected', () => status('secure').connected, 15_000);
    await eventually('value over the secure channel', () => find(values, 'runHours', 7));
    expect(status('secure').reconnects).toBe(0);
    await eventually('wrong password reported', () => /create session failed/.test(status('wrongpw').lastError ?? ''), 10_000);
    expect(status('wrongpw').connected).toBe(false);
    expect(values.some((v) => v.endpoint === 'wrongpw')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { checkOpcUaConfig, loadOpcUaConfigFile, parseOpcUaConfig } from '../../ingest/opcua/config.ts';

const node = (over: Record<string, unknown> = {}) => ({ nodeId: 'ns=2;s=Pump1.Temperature', site: 'plant-1', asset: 'PUMP-0001', metric: 'temperature', ...over });
const endpoint = (over: Record<string, unknown> = {}) => ({ name: 'line1', url: 'opc.tcp://127.0.0.1:4840', nodes: [node()], ...over });
const problems = (json: unknown): string[] => {
  const r = checkOpcUaConfig(json);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('OPC-UA config', () => {
  it('applies defaults and returns a frozen, typed config', () => {
    const input = { endpoints: [endpoint()] };
    const c = parseOpcUaConfig(input);
    expect(c.endpoints[0]).toEqual({
      name: 'line1',
      url: 'opc.tcp://127.0.0.1:4840',
      securityMode: 'None',
      securityPolicy: 'None',
      mode: 'subscribe',
      samplingIntervalMs: 1000,
      publishingIntervalMs: 1000,
      pollIntervalMs: 1000,
      nodes: [{ nodeId: 'ns=2;s=Pump1.Temperature', site: 'plant-1', asset: 'PUMP-0001', metric: 'temperature', scale: 1, offset: 0 }],
    });
    expect(Object.isFrozen(c.endpoints[0]!.nodes[0])).toBe(true);
    expect(input.endpoints[0]).not.toHaveProperty('mode'); // input untouched
  });

  it('keeps explicit values', () => {
    const c = parseOpcUaConfig({
      endpoints: [
        endpoint({ securityMode: 'Sign', securityPolicy: 'Aes256_Sha256_RsaPss', username: 'u', password: 'p', mode: 'poll', pollIntervalMs: 250, nodes: [node({ unit: 'bar', scale: 0.01, offset: -1, nodeId: 'ns=3;i=1001' })] }),
      ],
    });
    expect(c.endpoints[0]).toMatchObject({ securityMode: 'Sign', securityPolicy: 'Aes256_Sha256_RsaPss', username: 'u', password: 'p', mode: 'poll', pollIntervalMs: 250 });
    expect(c.endpoints[0]!.nodes[0]).toMatchObject({ unit: 'bar', scale: 0.01, offset: -1 });
  });

  it.each(['i=2258', 'ns=2;s=Line 1/Pump.Temp', 'ns=1;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63', 'ns=1;b=M/RbKBsRVkePCePcx24oRA=='])('accepts nodeId %s', (nodeId) => {
    expect(problems({ endpoints: [endpoint({ nodes: [node({ nodeId })] })] })).toEqual([]);
  });

  it('accepts no endpoints at all', () => {
    expect(parseOpcUaConfig({ endpoints: [] }).endpoints).toEqual([]);
  });

  it.each([
    ['not an object', 'x', ['/: must be object']],
    ['missing endpoints', {}, ['/endpoints: is required']],
    ['http url', { endpoints: [endpoint({ url: 'http://plc:4840' })] }, ['/endpoints/0/url: must be an opc.tcp:// URL']],
    ['url with spaces', { endpoints: [endpoint({ url: 'opc.tcp://my plc:4840' })] }, ['/endpoints/0/url: must be an opc.tcp:// URL']],
    ['bad site code', { endpoints: [endpoint({ nodes: [node({ site: '-plant' })] })] }, ['/endpoints/0/nodes/0/site: must be a code']],
    ['bad asset code', { endpoints: [endpoint({ nodes: [node({ asset: 'PUMP 1' })] })] }, ['/endpoints/0/nodes/0/asset: must be a code']],
    ['asset code too long', { endpoints: [endpoint({ nodes: [node({ asset: 'A'.repeat(65) })] })] }, ['/endpoints/0/nodes/0/asset: must be a code']],
    ['bad metric', { endpoints: [endpoint({ nodes: [node({ metric: '1temp' })] })] }, ['/endpoints/0/nodes/0/metric: must be a metric name']],
    ['metric with a dash', { endpoints: [endpoint({ nodes: [node({ metric: 'run-hours' })] })] }, ['/endpoints/0/nodes/0/metric: must be a metric name']],
    ['nodeId without identifier type', { endpoints: [endpoint({ nodes: [node({ nodeId: 'Pump1.Temperature' })] })] }, ['/endpoints/0/nodes/0/nodeId: must be a NodeId']],
    ['nodeId with a bad guid', { endpoints: [endpoint({ nodes: [node({ nodeId: 'ns=1;g=zz' })] })] }, ['/endpoints/0/nodes/0/nodeId: must be a NodeId']],
    ['nodeId with a namespace URI', { endpoints: [endpoint({ nodes: [node({ nodeId: 'nsu=urn:plc;s=T' })] })] }, ['/endpoints/0/nodes/0/nodeId: must be a NodeId']],
    ['numeric nodeId with letters', { endpoints: [endpoint({ nodes: [node({ nodeId: 'ns=2;i=12a' })] })] }, ['/endpoints/0/nodes/0/nodeId: must be a NodeId']],
    ['missing node fields', { endpoints: [endpoint({ nodes: [{ nodeId: 'i=2258' }] })] }, ['/endpoints/0/nodes/0/site: is required', '/endpoints/0/nodes/0/asset: is required', '/endpoints/0/nodes/0/metric: is required']],
    ['missing endpoint fields', { endpoints: [{}] }, ['/endpoints/0/name: is required', '/endpoints/0/url: is required', '/endpoints/0/nodes: is required']],
    ['no nodes', { endpoints: [endpoint({ nodes: [] })] }, ['/endpoints/0/nodes: must not have fewer than 1 items']],
    ['unknown property (typo)', { endpoints: [endpoint({ pollingIntervalMs: 500 })] }, ['/endpoints/0/pollingIntervalMs: unknown property']],
    ['bad security mode', { endpoints: [endpoint({ securityMode: 'Encrypt' })] }, ['/endpoints/0/securityMode: must be one of "None", "Sign", "SignAndEncrypt"']],
    ['bad security policy', { endpoints: [endpoint({ securityPolicy: 'Basic128Rsa15' })] }, ['/endpoints/0/securityPolicy: must be one of']],
    ['bad mode', { endpoints: [endpoint({ mode: 'push' })] }, ['/endpoints/0/mode: must be one of "subscribe", "poll"']],
    ['fractional interval', { endpoints: [endpoint({ publishingIntervalMs: 0.5 })] }, ['/endpoints/0/publishingIntervalMs: must be integer']],
    ['poll interval too small', { endpoints: [endpoint({ pollIntervalMs: 0 })] }, ['/endpoints/0/pollIntervalMs: must be >= 10']],
    ['scale not a number', { endpoints: [endpoint({ nodes: [node({ scale: '0.1' })] })] }, ['/endpoints/0/nodes/0/scale: must be number']],
    ['policy without mode', { endpoints: [endpoint({ securityPolicy: 'Basic256Sha256' })] }, ['/endpoints/0/securityPolicy: must be "None" when securityMode is "None"']],
    ['mode without policy', { endpoints: [endpoint({ securityMode: 'SignAndEncrypt' })] }, ['/endpoints/0/securityPolicy: securityMode "SignAndEncrypt" needs a securityPolicy']],
    ['username without password', { endpoints: [endpoint({ username: 'op' })] }, ['/endpoints/0/password: is required when username is set']],
    ['password without username', { endpoints: [endpoint({ password: 'pw' })] }, ['/endpoints/0/username: is required when password is set']],
    ['duplicate endpoint names', { endpoints: [endpoint(), endpoint({ nodes: [node({ metric: 'other' })] })] }, ['/endpoints/1/name: duplicate endpoint name "line1"']],
    ['same asset metric mapped twice', { endpoints: [endpoint({ nodes: [node(), node({ nodeId: 'ns=2;i=5' })] })] }, ['/endpoints/0/nodes/1: plant-1/PUMP-0001/temperature is already mapped by /endpoints/0/nodes/0']],
  ])('rejects %s with a path and a reason', (_name, json, expected) => {
    const got = problems(json);
    for (const e of expected) expect(got.some((g) => g.startsWith(e)), `${e}\n got: ${got.join('\n')}`).toBe(true);
  });

  it('reports every problem at once (more than TypeBox’s default of 8) and throws them in one message', () => {
    const bad = { endpoints: [0, 1, 2].map((i) => endpoint({ name: `e${i}`, url: 'tcp://x', nodes: [node({ site: '', asset: '', metric: '' })] })) };
    expect(problems(bad)).toHaveLength(12);
    let message = '';
    try {
      parseOpcUaConfig(bad, 'plants.json');
    } catch (err) {
      message = (err as Error).message;
      expect((err as { kind?: string }).kind).toBe('validation');
    }
    expect(message).toContain('plants.json is invalid (12 problems)');
    for (const i of [0, 1, 2]) for (const f of ['url', 'nodes/0/site', 'nodes/0/asset', 'nodes/0/metric']) expect(message).toContain(`/endpoints/${i}/${f}: `);
  });

  it('the example config file in ingest/opcua is valid', () => {
    const c = loadOpcUaConfigFile(new URL('../../ingest/opcua/opcua.example.json', import.meta.url).pathname);
    expect(c.endpoints.map((e) => e.mode)).toEqual(['subscribe', 'poll']);
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadOpcUaConfigFile('/nonexistent/opcua.json')).toThrow(/cannot read OPC-UA config \/nonexistent\/opcua.json/);
  });
});

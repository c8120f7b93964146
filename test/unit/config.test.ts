import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SPEC, loadConfig } from '../../platform/config.ts';

describe('config', () => {
  it('defaults to the embedded stores and all roles', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBeUndefined();
    expect(c.influxUrl).toBeUndefined();
    expect(c.roles).toEqual(['api', 'ingest', 'rules']);
    expect(c.mqttPort).toBe(1883);
    expect(c.meterMetrics).toContain('runHours');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses typed values', () => {
    const c = loadConfig({ HTTP_PORT: '8080', SIMULATOR_ENABLED: 'yes', ROLES: 'ingest, rules', DATABASE_URL: 'postgresql://u@127.0.0.1:5432/om' });
    expect(c.httpPort).toBe(8080);
    expect(c.simulatorEnabled).toBe(true);
    expect(c.roles).toEqual(['ingest', 'rules']);
    expect(c.databaseUrl).toBe('postgresql://u@127.0.0.1:5432/om');
  });

  it('reports every invalid variable at once, by name', () => {
    let message = '';
    try {
      loadConfig({ HTTP_PORT: '70000', MQTT_PORT: 'abc', DATABASE_URL: 'mysql://x', ROLES: 'api,web', LOG_LEVEL: 'loud' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of ['HTTP_PORT', 'MQTT_PORT', 'DATABASE_URL', 'ROLES', 'LOG_LEVEL']) expect(message).toContain(name);
    expect(message).toContain('between 0 and 65535');
  });

  it('external broker mode needs MQTT_URL', () => {
    expect(() => loadConfig({ MQTT_MODE: 'external' })).toThrow(/MQTT_URL: required when MQTT_MODE=external/);
    expect(loadConfig({ MQTT_MODE: 'external', MQTT_URL: 'mqtt://127.0.0.1:1884' }).mqttShareGroup).toBe('om-ingest');
  });

  it('.env.example lists exactly the variables the service reads, with their defaults', () => {
    const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = new Map<string, string>();
    for (const line of text.split('\n')) {
      const m = /^#?\s*([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) documented.set(m[1]!, m[2]!);
    }
    const specs = Object.values(CONFIG_SPEC);
    expect([...documented.keys()].sort()).toEqual(specs.map((s) => s.env).sort());
    for (const s of specs) expect(documented.get(s.env), s.env).toBe(s.default ?? '');
  });

  it('the README configuration table names every variable', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const s of Object.values(CONFIG_SPEC)) expect(readme, s.env).toContain(`\`${s.env}\``);
  });
});

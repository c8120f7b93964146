/**
 * A small fleet of simulated machines publishing over real MQTT (mqtt.js): run-hours accumulate
 * (accelerated), temperatures wander around normal, and the designated machines overheat after a
 * few ticks — so rules visibly create PM and over-temperature work orders.
 */
import mqtt from 'mqtt';
import { statusTopic, telemetryTopic } from '../ingest/topics.ts';

export interface SimulatedMachine {
  code: string;
  startRunHours: number;
  overheats: boolean;
}

export interface FleetOptions {
  url: string;
  site: string;
  machines: SimulatedMachine[];
  intervalMs: number;
  hoursPerTick: number;
  /** Ticks before an overheating machine starts to heat up. */
  overheatAfterTicks?: number;
  onError?(err: Error): void;
  /** Device (gateway) credentials when the broker requires them. */
  username?: string | undefined;
  password?: string | undefined;
}

/** Deterministic temperature curve: normal machines hover at ~65 °C, overheating ones climb to ~97 °C. */
export function temperatureAt(tick: number, index: number, overheats: boolean, overheatAfter: number): number {
  const wobble = Math.sin((tick + index * 3) / 2) * 2;
  if (!overheats || tick < overheatAfter) return Math.round((65 + wobble) * 10) / 10;
  return Math.round(Math.min(97, 65 + (tick - overheatAfter) * 4) * 10 + wobble) / 10;
}

export function demoMachines(count: number): SimulatedMachine[] {
  return Array.from({ length: count }, (_, i) => ({
    code: `PUMP-ACME-P100-${String(i + 1).padStart(4, '0')}`,
    startRunHours: 300 + i * 45,
    overheats: i === 1,
  }));
}

export async function startFleet(opts: FleetOptions): Promise<{ stop(): Promise<void>; ticks(): number }> {
  const client = await mqtt.connectAsync(opts.url, {
    clientId: `fleet-sim-${process.pid}`,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    ...(opts.username ? { username: opts.username, password: opts.password ?? '' } : {}),
  });
  for (const m of opts.machines) client.publish(statusTopic(opts.site, m.code), 'online', { qos: 1, retain: true });
  client.on('error', (err) => opts.onError?.(err));
  const overheatAfter = opts.overheatAfterTicks ?? 5;
  const runHours = opts.machines.map((m) => m.startRunHours);
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    opts.machines.forEach((m, i) => {
      runHours[i] = Math.round(((runHours[i] ?? 0) + opts.hoursPerTick) * 100) / 100;
      const payload = JSON.stringify({
        ts: Date.now(),
        metrics: { runHours: runHours[i], temperature: temperatureAt(tick, i, m.overheats, overheatAfter), vibration: Math.round((2 + Math.cos(tick + i)) * 100) / 100 },
      });
      client.publish(telemetryTopic(opts.site, m.code), payload, { qos: 1 });
    });
  }, opts.intervalMs);
  return {
    ticks: () => tick,
    async stop() {
      clearInterval(timer);
      await client.endAsync();
    },
  };
}

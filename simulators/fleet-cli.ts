/**
 * npm run simulate -- [--url mqtt://127.0.0.1:1883] [--assets 6] [--interval 1000] [--hours 10] [--site plant-1]
 *                      [--username U --password P]
 * Publishes the demo fleet to a running service (which seeds the same assets when SIMULATOR_ENABLED
 * is on, or create them through the API). With MQTT_AUTH=devices pass a site gateway credential
 * (POST /sites/{id}/credentials). Stops on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { DEMO_SITE } from './demo-seed.ts';
import { demoMachines, startFleet } from './fleet.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
    assets: { type: 'string', default: '6' },
    interval: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '10' },
    site: { type: 'string', default: DEMO_SITE },
    username: { type: 'string' },
    password: { type: 'string' },
  },
});
const fleet = await startFleet({
  url: values.url,
  site: values.site,
  machines: demoMachines(Number(values.assets)),
  intervalMs: Number(values.interval),
  hoursPerTick: Number(values.hours),
  onError: (err) => console.error('mqtt:', err.message),
  username: values.username,
  password: values.password,
});
console.log(`publishing ${values.assets} machines to ${values.url} every ${values.interval} ms (Ctrl-C stops)`);
const stop = async (): Promise<void> => {
  await fleet.stop();
  console.log(`stopped after ${fleet.ticks()} ticks`);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

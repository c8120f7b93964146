/**
 * The worker thread of INGEST_THREAD=on (main.ts starts it through platform/role-thread.ts): runs the
 * platform with the roles it was given (ingest, rules) and answers the main thread's requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startPlatform } from './main.ts';
import type { Config } from './platform/config.ts';
import { createRootLogger } from './platform/logger.ts';
import type { FromThread, ToThread } from './platform/role-thread.ts';

const port = parentPort!;
const { config } = workerData as { config: Config };
const send = (m: FromThread): void => port.postMessage(m);
const logger = createRootLogger(config.logLevel).child({ thread: 'ingest' });

try {
  const platform = await startPlatform(config, { logger });
  port.on('message', (m: ToThread) => {
    switch (m.type) {
      case 'health':
        void platform.health().then(
          (report) => send({ type: 'health', id: m.id, report }),
          (err: unknown) => send({ type: 'health', id: m.id, report: { components: { ingestThread: { ok: false, detail: (err as Error).message } }, counters: {} } }),
        );
        break;
      case 'publish':
        void platform.publish(m.topic, m.payload).then(
          () => send({ type: 'published', id: m.id }),
          (err: unknown) => send({ type: 'published', id: m.id, error: (err as Error).message }),
        );
        break;
      case 'assetsChanged':
        platform.assetsChanged();
        break;
      case 'rulesChanged':
        void platform.engine.reload().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'rule reload failed'));
        break;
      case 'ruleStateChanged':
        platform.engine.forgetState(m.ruleId, m.assetId);
        break;
      case 'credentialRevoked':
        platform.credentials.forget(m.username);
        break;
      case 'stop':
        void platform.stop().then(() => {
          send({ type: 'stopped' });
          port.close();
        });
        break;
    }
  });
  send({ type: 'ready', mqttUrl: platform.mqttUrl });
} catch (err) {
  logger.error({ err }, 'ingest thread: start failed');
  send({ type: 'failed', message: (err as Error).message });
}

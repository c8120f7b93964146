/**
 * Embedded MQTT broker (aedes 1.x, MQTT 3.1.1). Every publish is handed to `onPublish` synchronously
 * and never awaited: the broker's publish path stays free of I/O.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../platform/logger.ts';

export interface EmbeddedBroker {
  readonly port: number;
  connectedClients(): number;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  logger: Logger;
  onPublish(topic: string, payload: Buffer, clientId: string): void;
}): Promise<EmbeddedBroker> {
  const log = opts.logger.child({ module: 'broker' });
  const broker = await Aedes.createBroker({ concurrency: 1000 });
  broker.on('publish', (packet, client) => {
    if (!client) return; // broker's own $SYS messages
    opts.onPublish(packet.topic, packet.payload as Buffer, client.id);
  });
  broker.on('clientError', (client, err) => log.debug({ client: client.id, err: err.message }, 'client error'));
  broker.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error'));
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: opts.host, port }, 'embedded MQTT broker listening');
  return {
    port,
    connectedClients: () => broker.connectedClients,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

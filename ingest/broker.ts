/**
 * Embedded MQTT broker (aedes 1.x, MQTT 3.1.1). Every accepted publish is handed to `onPublish`
 * synchronously and never awaited: the broker's publish path stays free of I/O.
 * With `auth`, clients must present device credentials (checked once per connection) and may
 * publish/subscribe only inside their scope (checked per packet, in memory).
 *
 * When a message is acknowledged (aedes 1.2, lib/handlers/publish.js): handlePublish runs
 * authorizePublish, then enqueuePublish, which for QoS 1 writes the PUBACK to the socket FIRST and
 * only then (after a setImmediate and aedes' own publish series: retained store, offline enqueue,
 * mqemitter) emits 'publish'. So `onPublish` runs after the ack; the ingest journal must be written
 * earlier: `journal` is called synchronously in authorizePublish, right before its callback lets
 * aedes go on to the PUBACK, and its result is handed to `onPublish` with the same packet object
 * (aedes passes the client's packet itself through to the 'publish' event).
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { Logger } from '../platform/logger.ts';
import { mayPublish, maySubscribe, type DeviceScope } from './device-auth.ts';

export interface BrokerAuth {
  authenticate(username: string | undefined, password: string | undefined): Promise<DeviceScope | null>;
  /** A publish outside the device's scope (the client is disconnected). */
  onUnauthorized(topic: string, payload: Buffer, clientId: string, reason: string): void;
}

export interface EmbeddedBroker {
  readonly port: number;
  connectedClients(): number;
  /** Server-side publish (e.g. to engineers' topics); not fed back into ingest. */
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const BAD_CREDENTIALS = 4; // CONNACK return code: bad user name or password

export async function startEmbeddedBroker(opts: {
  host: string;
  port: number;
  logger: Logger;
  auth?: BrokerAuth | undefined;
  onPublish(topic: string, payload: Buffer, clientId: string, journaled: number | undefined): void;
  /** Write-ahead journaling before the PUBACK (see above); returns a ticket handed to onPublish. */
  journal?(topic: string, payload: Buffer, clientId: string): number | undefined;
  /** Backpressure: a promise while the consumer is saturated; the publishing client waits for it. */
  admission?(): Promise<void> | undefined;
  /** Device sessions with an asset scope come and go. */
  onPresence?(scope: DeviceScope, online: boolean): void;
}): Promise<EmbeddedBroker> {
  const log = opts.logger.child({ module: 'broker' });
  const scopes = new WeakMap<Client, DeviceScope>();
  const { auth } = opts;
  const journaled = new WeakMap<object, number>();
  const { journal } = opts;
  // synchronous, immediately before aedes may acknowledge the packet
  const go = (client: Client | null, packet: { topic: string; payload: unknown }, callback: (err?: Error | null) => void): void => {
    if (journal && client) {
      const ticket = journal(packet.topic, packet.payload as Buffer, client.id);
      if (ticket !== undefined) journaled.set(packet, ticket);
    }
    callback(null);
  };
  // holding the callback pauses this client's packet processing, and so its TCP stream
  const admit = (client: Client | null, packet: { topic: string; payload: unknown }, callback: (err?: Error | null) => void): void => {
    const wait = opts.admission?.();
    if (wait) void wait.then(() => go(client, packet, callback));
    else go(client, packet, callback);
  };
  const broker = await Aedes.createBroker({
    concurrency: 1000,
    ...(auth
      ? {
          authenticate: (client, username, password, done) => {
            auth.authenticate(username, password?.toString('utf8')).then(
              (scope) => {
                if (!scope) {
                  log.warn({ client: client.id, username }, 'MQTT connection refused: bad credentials');
                  const err = Object.assign(new Error('bad user name or password'), { returnCode: BAD_CREDENTIALS });
                  return done(err, false);
                }
                scopes.set(client, scope);
                done(null, true);
              },
              (err: Error) => {
                log.error({ err: err.message }, 'credential lookup failed');
                done(Object.assign(new Error('server unavailable'), { returnCode: 3 }), false);
              },
            );
          },
          authorizePublish: (client, packet, callback) => {
            const scope = client ? scopes.get(client) : undefined;
            if (!client || !scope) return callback(new Error('not authenticated'));
            const check = mayPublish(scope, packet.topic);
            if (check.ok) return admit(client, packet, callback);
            auth.onUnauthorized(packet.topic, packet.payload as Buffer, client.id, check.reason);
            callback(new Error(check.reason));
          },
          authorizeSubscribe: (client, sub, callback) => {
            const scope = scopes.get(client);
            callback(null, scope && maySubscribe(scope, sub.topic) ? sub : null);
          },
        }
      : { authorizePublish: (client, packet, callback) => admit(client, packet, callback) }),
  });
  broker.on('publish', (packet, client) => {
    if (!client) return; // broker's own $SYS messages
    // a publish that did not pass authorizePublish (none expected) is journaled by onPublish itself
    opts.onPublish(packet.topic, packet.payload as Buffer, client.id, journaled.get(packet));
  });
  broker.on('clientReady', (client) => {
    const scope = scopes.get(client);
    if (scope?.asset) opts.onPresence?.(scope, true);
  });
  broker.on('clientDisconnect', (client) => {
    const scope = scopes.get(client);
    if (scope?.asset) opts.onPresence?.(scope, false);
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
  log.info({ host: opts.host, port, auth: auth ? 'device credentials' : 'none' }, 'embedded MQTT broker listening');
  return {
    port,
    connectedClients: () => broker.connectedClients,
    publish: (topic, payload, o = {}) =>
      new Promise<void>((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: o.qos ?? 1, retain: o.retain ?? false, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

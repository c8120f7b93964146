/**
 * External broker mode (issue #3): instead of embedding aedes, connect as an MQTT 5 client to an
 * existing broker (Mosquitto, EMQX, HiveMQ) and subscribe to the telemetry topics. With `shareGroup`
 * the subscriptions are MQTT 5 shared subscriptions (`$share/<group>/<filter>`), so several service
 * instances split the load. Every message is handed to `onMessage` synchronously and never awaited;
 * the heavy work happens behind the pipeline's queue.
 *
 * Behaviour:
 *  - Start: `connectExternalBroker` resolves once connected AND subscribed. If that does not happen
 *    within `connectTimeoutMs` (default 10 s) it rejects with an error naming the URL and the last
 *    error, and leaves nothing running. A refused CONNECT (bad credentials, not authorised, …) or a
 *    refused subscription rejects at once. Failing fast at start is deliberate: a wrong URL or
 *    password is a configuration error, and the process supervisor restarts the service.
 *  - After the first connection, outages are survived: reconnects with bounded exponential backoff
 *    (`reconnectMinMs` doubling up to `reconnectMaxMs`, with jitter), forever, until `close()`.
 *  - Persistent session (clean start off, session expiry `sessionExpirySec`, default 1 h): QoS 1
 *    messages published while the service is disconnected are queued by the broker and delivered
 *    after it reconnects with the same `clientId` (so client ids must be stable per instance).
 *  - Subscriptions are (re-)sent on every connect, also when CONNACK says `sessionPresent`: Mosquitto
 *    2.0.11 reports a present session after a restart from its persistence file but has lost the
 *    session's shared subscriptions, and a SUBSCRIBE may have been lost with the previous connection.
 *    Re-subscribing is idempotent; retain handling 1 keeps a re-subscribe from re-sending retained
 *    messages (shared subscriptions never get retained messages).
 *  - close(): a shared-group member ends its session (DISCONNECT with session expiry 0). Otherwise
 *    Mosquitto keeps routing the member's round-robin share into the orphaned session, where it waits
 *    until a client with that id returns or the session expires. A plain subscriber keeps its session,
 *    so a restart with the same client id gets what was published meanwhile.
 *
 * The client id of the publisher is not known to a subscriber, so `onMessage` gets `undefined`.
 */
import mqtt, { ErrorWithSubackPacket, type IClientSubscribeOptions, type IConnackPacket, type IDisconnectPacket, type ISubscriptionMap } from 'mqtt';
import type { Logger } from '../platform/logger.ts';

export interface ExternalBrokerOptions {
  /** mqtt://, mqtts://, ws:// or wss:// URL of the broker. */
  url: string;
  username?: string;
  password?: string;
  /** Must be unique per service instance and stable across its restarts (persistent session). */
  clientId: string;
  /** shared-subscription group; undefined = plain subscription */
  shareGroup?: string;
  /** Topic filters, e.g. ['plant/+/+/+'] (the call site passes SUBSCRIPTION from ingest/topics.ts). */
  topics: string[];
  /** Subscription QoS; default 1. */
  qos?: 0 | 1;
  logger: Logger;
  /** Synchronous hand-off; clientId of the publisher is unknown for external brokers → undefined. */
  onMessage(topic: string, payload: Buffer, clientId: string | undefined): void;
  /** Session expiry sent in CONNECT; default 3600 s. */
  sessionExpirySec?: number;
  /** How long start-up may take (connect + subscribe) before rejecting; default 10,000 ms. */
  connectTimeoutMs?: number;
  /** First reconnect delay; default 1,000 ms. */
  reconnectMinMs?: number;
  /** Upper bound of the reconnect delay; default 30,000 ms. */
  reconnectMaxMs?: number;
}

export interface ExternalBrokerStatus {
  connected: boolean;
  /** The broker URL, without a password. */
  url: string;
  /** Filters subscribed in the current connection (empty while disconnected). */
  subscriptions: string[];
  /** Successful reconnections after the first connection. */
  reconnects: number;
  /** Messages received (handed to onMessage). */
  received: number;
  lastError?: string;
}

export interface ExternalBroker {
  status(): ExternalBrokerStatus;
  /** Publish to the broker (e.g. engineers' topics); queued by mqtt.js while reconnecting. */
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const DEFAULTS = {
  qos: 1,
  sessionExpirySec: 3600,
  connectTimeoutMs: 10_000,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 30_000,
  keepaliveSec: 30,
  /** Longest a graceful DISCONNECT may take in close() before the socket is destroyed. */
  closeGraceMs: 2_000,
} as const;

/** MQTT 5 CONNACK reason codes that retrying with the same settings cannot fix. */
const FATAL_CONNACK = new Set([
  0x84, // unsupported protocol version
  0x85, // client identifier not valid
  0x86, // bad user name or password
  0x87, // not authorized
  0x8c, // bad authentication method
]);

export async function connectExternalBroker(opts: ExternalBrokerOptions): Promise<ExternalBroker> {
  const shownUrl = redactUrl(opts.url);
  const filters = subscriptionFilters(opts);
  const qos = opts.qos ?? DEFAULTS.qos;
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const reconnectMinMs = opts.reconnectMinMs ?? DEFAULTS.reconnectMinMs;
  const reconnectMaxMs = Math.max(reconnectMinMs, opts.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs);
  const log = opts.logger.child({
    module: 'external-broker',
    url: shownUrl,
    clientId: opts.clientId,
    ...(opts.shareGroup !== undefined ? { shareGroup: opts.shareGroup } : {}),
  });

  const state = {
    connected: false,
    subscriptions: [] as string[],
    reconnects: 0,
    received: 0,
    lastError: undefined as string | undefined,
  };
  let everConnected = false;
  let closing = false;
  let attempt = 0; // failed attempts since the last successful connection
  let lostAt: number | undefined;
  let handlerErrors = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  // Start-up settles exactly once: subscribed → resolve; timeout / fatal refusal → reject.
  let settleStart: ((err?: Error) => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      settleStart?.(new Error(`external MQTT broker ${shownUrl}: not connected and subscribed within ${connectTimeoutMs} ms (last error: ${state.lastError ?? 'none'})`));
    }, connectTimeoutMs);
    settleStart = (err) => {
      settleStart = undefined;
      clearTimeout(deadline);
      if (err) reject(err);
      else resolve();
    };
  });

  const client = mqtt.connect(opts.url, {
    protocolVersion: 5,
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    clean: false,
    properties: { sessionExpiryInterval: opts.sessionExpirySec ?? DEFAULTS.sessionExpirySec },
    keepalive: DEFAULTS.keepaliveSec,
    connectTimeout: Math.min(connectTimeoutMs, 10_000), // CONNACK wait per attempt
    reconnectPeriod: 0, // reconnects are scheduled below (mqtt.js only knows a fixed period)
    resubscribe: false, // subscriptions are re-sent below on every connect
  });

  function recordError(message: string): void {
    if (message !== state.lastError) log.warn({ err: message }, 'MQTT broker error');
    else log.debug({ err: message }, 'MQTT broker error (repeated)');
    state.lastError = message;
  }

  function subscribe(): void {
    const map: ISubscriptionMap = {};
    const subOpts: IClientSubscribeOptions = { qos, rh: 1 };
    for (const f of filters) map[f] = subOpts;
    client.subscribeAsync(map).then(
      (granted) => {
        // (refusals, reason codes ≥ 0x80, make mqtt.js reject: handled below)
        state.subscriptions = granted.map((g) => g.topic);
        const downgraded = granted.filter((g) => g.qos < qos).map((g) => `${g.topic} (QoS ${g.qos})`);
        if (downgraded.length > 0) log.warn({ downgraded }, 'broker granted a lower QoS than requested');
        log.info({ subscriptions: state.subscriptions, qos }, 'subscribed');
        settleStart?.();
      },
      (err: Error) => {
        if (closing) return;
        if (err instanceof ErrorWithSubackPacket) {
          // the broker refused (not authorised, shared subscriptions unsupported, …): retrying will not help
          const codes = err.packet.granted as number[];
          fail(`subscription refused: ${filters.map((f, i) => `${f} → reason ${codes[i] ?? '?'}`).join(', ')}`);
        } else {
          recordError(`subscribe failed: ${err.message}`); // connection dropped before SUBACK: re-sent on the next connect
        }
      },
    );
  }

  /** A refusal by the broker: fatal at start; afterwards logged and retried on the next connect. */
  function fail(message: string): void {
    recordError(message);
    if (settleStart) {
      settleStart(new Error(`external MQTT broker ${shownUrl}: ${message}`));
      void shutdown(true);
    }
  }

  function scheduleReconnect(): void {
    if (closing || retryTimer) return;
    attempt++;
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(attempt - 1, 20));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2); // jitter: ½…1 × ceiling
    log.debug({ attempt, delayMs: delay }, 'reconnecting');
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!closing) client.reconnect();
    }, delay);
  }

  client.on('connect', (connack: IConnackPacket) => {
    const sessionPresent = connack.sessionPresent;
    state.connected = true;
    if (everConnected) {
      state.reconnects++;
      log.info({ sessionPresent, attempts: attempt, downMs: lostAt === undefined ? undefined : Date.now() - lostAt }, 'reconnected to MQTT broker');
    } else {
      log.info({ sessionPresent }, 'connected to MQTT broker');
    }
    everConnected = true;
    attempt = 0;
    lostAt = undefined;
    subscribe();
  });

  client.on('close', () => {
    const wasConnected = state.connected;
    state.connected = false;
    state.subscriptions = [];
    if (closing) return;
    if (wasConnected) {
      lostAt = Date.now();
      log.warn({ lastError: state.lastError }, 'connection to MQTT broker lost; reconnecting');
    }
    scheduleReconnect();
  });

  client.on('disconnect', (packet: IDisconnectPacket) => {
    // broker-initiated DISCONNECT (MQTT 5); 0x8e = another client connected with the same client id
    const reason = packet.reasonCode === 0x8e ? 'session taken over: another client connected with the same client id' : `reason code ${packet.reasonCode ?? 0}`;
    recordError(`broker disconnected us: ${reason}${packet.properties?.reasonString ? ` (${packet.properties.reasonString})` : ''}`);
  });

  client.on('error', (err: Error & { code?: string | number }) => {
    recordError(describeError(err));
    if (settleStart && typeof err.code === 'number' && FATAL_CONNACK.has(err.code)) {
      settleStart(new Error(`external MQTT broker ${shownUrl}: ${describeError(err)}`));
      void shutdown(true);
    }
  });

  // mqtt.js 5 (lib/handlers/publish.js) emits 'message' synchronously and sends the QoS 1 PUBACK only
  // after it (handleMessage → _sendPacket): onMessage, which journals the message in
  // pipeline.accept, has returned before the broker is told it may forget the message
  client.on('message', (topic, payload) => {
    state.received++;
    try {
      opts.onMessage(topic, payload, undefined);
    } catch (err) {
      // never let a handler bug break the client's packet loop; count and log (throttled)
      handlerErrors++;
      if (handlerErrors === 1 || handlerErrors % 1000 === 0) {
        log.warn({ err: err instanceof Error ? err.message : String(err), handlerErrors, topic }, 'message handler threw');
      }
    }
  });

  let closed: Promise<void> | undefined;
  function shutdown(force: boolean): Promise<void> {
    closed ??= (async () => {
      closing = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      if (!force && client.connected) {
        // Shared-group members end their session (see header); plain subscribers keep it.
        const disconnect: Partial<IDisconnectPacket> = opts.shareGroup !== undefined ? { reasonCode: 0, properties: { sessionExpiryInterval: 0 } } : { reasonCode: 0 };
        let timer: NodeJS.Timeout | undefined;
        const graceful = await Promise.race([
          client.endAsync(false, disconnect).then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), DEFAULTS.closeGraceMs);
          }),
        ]).finally(() => clearTimeout(timer));
        if (!graceful) client.stream?.destroy();
      } else {
        await client.endAsync(true);
      }
      state.connected = false;
      state.subscriptions = [];
      log.info({ received: state.received, reconnects: state.reconnects }, 'disconnected from MQTT broker');
    })();
    return closed;
  }

  try {
    await started;
  } catch (err) {
    await shutdown(true);
    throw err;
  }

  return {
    status: () => ({
      connected: state.connected,
      url: shownUrl,
      subscriptions: [...state.subscriptions],
      reconnects: state.reconnects,
      received: state.received,
      ...(state.lastError !== undefined ? { lastError: state.lastError } : {}),
    }),
    publish: async (topic, payload, o = {}) => {
      await client.publishAsync(topic, payload, { qos: o.qos ?? 1, retain: o.retain ?? false });
    },
    close: () => shutdown(false),
  };
}

/** `$share/<group>/<filter>` per topic when a share group is set; validates both. */
function subscriptionFilters(opts: Pick<ExternalBrokerOptions, 'topics' | 'shareGroup'>): string[] {
  if (opts.topics.length === 0) throw new Error('external broker: at least one topic filter is required');
  for (const t of opts.topics) {
    if (t === '' || t.startsWith('$share/')) throw new Error(`external broker: invalid topic filter "${t}" (give the plain filter and set shareGroup)`);
  }
  if (opts.shareGroup === undefined) return [...opts.topics];
  if (!/^[^/+#]+$/.test(opts.shareGroup)) throw new Error(`external broker: invalid share group "${opts.shareGroup}" (non-empty, no "/", "+" or "#")`);
  return opts.topics.map((t) => `$share/${opts.shareGroup}/${t}`);
}

function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`external broker: invalid URL "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  }
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

function describeError(err: Error & { code?: string | number }): string {
  if (err.message) return err.message;
  if (err instanceof AggregateError) return err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  return String(err.code ?? err);
}

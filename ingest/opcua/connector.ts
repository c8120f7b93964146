/**
 * OPC-UA ingest adapter: one node-opcua client per configured endpoint, values from subscriptions
 * (monitored items) or by polling, mapped to site/asset/metric and handed to `onValue`.
 *
 * Recovery, in layers:
 *  1. node-opcua's own reconnection: after a dropped connection it re-opens the secure channel
 *     (forever, bounded backoff), re-activates the session or creates a new one, and transfers or
 *     re-creates the subscription with its monitored items ("connection_reestablished").
 *  2. When that is not enough (session closed by the server, subscription terminated, a repair that
 *     left no monitored items, no publish response or keep-alive for several keep-alive periods, a
 *     failed connect/session/subscription) this module discards the client and builds a new one:
 *     new channel, new session, new subscription, with its own bounded backoff (1 s → 10 s).
 *  3. If creating the subscription fails, that endpoint polls instead (status says so) until its
 *     next new session, where subscribing is tried again.
 * An endpoint that is down at start is retried in the background; start-up never waits for it.
 */
import { join } from 'node:path';
import { format, stripVTControlCharacters } from 'node:util';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  resolveNodeId,
  setErrorLogger,
  setWarningLogger,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type NodeId,
  type UserIdentityInfo,
} from 'node-opcua';
import type { Logger } from '../../platform/logger.ts';
import type { OpcUaConfig, OpcUaEndpointConfig, OpcUaNodeMapping } from './config.ts';
import { convertSample } from './values.ts';

export interface OpcUaValue {
  site: string;
  asset: string;
  metric: string;
  value: number;
  ts: Date;
  /** Endpoint name from the config. */
  endpoint: string;
}

export type AcquisitionMode = 'subscribe' | 'poll';

export interface EndpointStatus {
  name: string;
  url: string;
  /** Channel open, session active and (in subscribe mode) the subscription running. */
  connected: boolean;
  /** Effective mode: 'poll' when configured so, or when subscribing failed (`pollingFallback`). */
  mode: AcquisitionMode;
  pollingFallback: boolean;
  /** Monitored items the server accepted (0 in poll mode). */
  monitoredItems: number;
  /** Receive time of the last value handed to onValue. */
  lastValueAt?: Date;
  lastError?: string;
  /** Successful reconnections after the first connection (node-opcua repairs + rebuilt clients). */
  reconnects: number;
  /** Values emitted to onValue. */
  values: number;
  /** Values with a non-Good StatusCode (counted, not emitted). */
  badValues: number;
  /** Good values that are not numeric/boolean scalars (counted, not emitted). */
  invalidValues: number;
}

export interface OpcUaIngestOptions {
  config: OpcUaConfig;
  logger: Logger;
  /** Certificate store (own certificate + key, trusted/rejected server certificates). Default ./data/opcua-pki. */
  pkiDir?: string;
  onValue(v: OpcUaValue): void;
  /** Reconnection backoff bounds (node-opcua's channel retries and this module's client rebuilds). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Interval of the info-level throughput log; 0 disables it. Default 60 s. */
  statsIntervalMs?: number;
}

export interface OpcUaIngest {
  status(): EndpointStatus[];
  stop(): Promise<void>;
}

export const DEFAULT_PKI_DIR = join('data', 'opcua-pki');
const APPLICATION_NAME = 'om-platform-opcua-ingest';
const DISCONNECT_TIMEOUT_MS = 5_000;
const MONITOR_TIMEOUT_MS = 30_000;
/** Target keep-alive period of a subscription: the server answers at least this often. */
const KEEPALIVE_TARGET_MS = 5_000;

/**
 * Sends node-opcua's own warnings and errors (normally printed to the console) to pino. Process-wide:
 * call once from the composition root. Messages printed while node-opcua is being imported are not caught.
 */
export function routeNodeOpcuaLogs(logger: Logger): void {
  const log = logger.child({ module: 'node-opcua' });
  const text = (args: unknown[]): string => stripVTControlCharacters(format(...args)).trim();
  setWarningLogger((_context?: unknown, ...args: unknown[]) => log.warn(text(args)));
  setErrorLogger((_context?: unknown, ...args: unknown[]) => log.error(text(args)));
}

/** /health components: one per endpoint, ok = connected. */
export function opcUaHealthComponents(statuses: readonly EndpointStatus[]): Record<string, { ok: boolean; detail: string }> {
  const out: Record<string, { ok: boolean; detail: string }> = {};
  for (const s of statuses) {
    const how = s.mode === 'subscribe' ? `subscribed, ${s.monitoredItems} monitored items` : s.pollingFallback ? 'polling (subscription failed)' : 'polling';
    const detail = s.connected
      ? `${s.url} ${how}; ${s.values} values, ${s.badValues} bad, ${s.reconnects} reconnects${s.lastValueAt ? `; last value ${s.lastValueAt.toISOString()}` : ''}`
      : `${s.url} disconnected${s.lastError ? `: ${s.lastError}` : ''}; ${s.reconnects} reconnects`;
    out[`opcua:${s.name}`] = { ok: s.connected, detail };
  }
  return out;
}

export async function startOpcUaIngest(opts: OpcUaIngestOptions): Promise<OpcUaIngest> {
  const logger = opts.logger.child({ module: 'opcua' });
  const certificateManager = new OPCUACertificateManager({
    rootFolder: opts.pkiDir ?? DEFAULT_PKI_DIR,
    // trust-on-first-use for server certificates (kept under <pkiDir>/trusted; move to rejected/ to revoke)
    automaticallyAcceptUnknownCertificate: true,
    // no chokidar watchers: fewer handles; edits to the store take effect at the next start
    disableFileWatchers: true,
  });
  await certificateManager.initialize();

  const backoff = {
    initialDelayMs: Math.max(50, opts.reconnect?.initialDelayMs ?? 1_000),
    maxDelayMs: Math.max(50, opts.reconnect?.maxDelayMs ?? 10_000),
  };
  const runners = opts.config.endpoints.map((ep) =>
    createEndpointRunner(ep, { logger, certificateManager, onValue: opts.onValue, backoff }),
  );
  for (const r of runners) r.start();

  const statsMs = opts.statsIntervalMs ?? 60_000;
  const statsTimer =
    statsMs > 0 && runners.length > 0
      ? setInterval(() => {
          for (const s of runners.map((r) => r.status())) {
            logger.info({ endpoint: s.name, connected: s.connected, mode: s.mode, values: s.values, badValues: s.badValues, invalidValues: s.invalidValues, reconnects: s.reconnects }, 'opcua throughput');
          }
        }, statsMs)
      : undefined;
  statsTimer?.unref();

  let stopping: Promise<void> | undefined;
  return {
    status: () => runners.map((r) => r.status()),
    stop() {
      stopping ??= (async () => {
        if (statsTimer) clearInterval(statsTimer);
        await Promise.all(runners.map((r) => r.stop()));
        await certificateManager.dispose();
      })();
      return stopping;
    },
  };
}

interface RunnerDeps {
  logger: Logger;
  certificateManager: OPCUACertificateManager;
  onValue(v: OpcUaValue): void;
  backoff: { initialDelayMs: number; maxDelayMs: number };
}

interface MappedNode {
  mapping: OpcUaNodeMapping;
  nodeId: NodeId;
  /** poll mode: last emitted sample, to skip re-reads of an unchanged (value, sourceTimestamp). */
  lastPolled?: string;
  reportedMissing?: boolean;
}

/** One client generation: replaced as a whole when it cannot be repaired in place. */
interface Connection {
  readonly id: number;
  readonly client: OPCUAClient;
  session?: ClientSession;
  subscription?: ClientSubscription;
  group?: ClientMonitoredItemGroup;
  pollTimer?: NodeJS.Timeout;
  watchdog?: NodeJS.Timeout;
  /** Last publish response (data or keep-alive) of the subscription. */
  lastActivity: number;
  closing: boolean;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function createEndpointRunner(ep: OpcUaEndpointConfig, deps: RunnerDeps) {
  const log = deps.logger.child({ endpoint: ep.name });
  const nodes: MappedNode[] = [];
  const configErrors: string[] = [];
  for (const mapping of ep.nodes) {
    try {
      nodes.push({ mapping, nodeId: resolveNodeId(mapping.nodeId) });
    } catch (err) {
      configErrors.push(`${mapping.nodeId}: ${errorText(err)}`);
    }
  }
  if (configErrors.length > 0) log.error({ errors: configErrors }, 'nodeIds skipped: not valid NodeIds');

  const st = {
    connected: false,
    mode: ep.mode as AcquisitionMode,
    pollingFallback: false,
    monitoredItems: 0,
    lastValueAt: undefined as Date | undefined,
    lastError: configErrors.length > 0 ? `invalid nodeIds skipped: ${configErrors.join('; ')}` : (undefined as string | undefined),
    reconnects: 0,
    values: 0,
    badValues: 0,
    invalidValues: 0,
  };

  let conn: Connection | undefined;
  let nextId = 0;
  let stopped = false;
  let everConnected = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const closing = new Set<Promise<void>>();

  const identity: UserIdentityInfo =
    ep.username !== undefined
      ? { type: UserTokenType.UserName, userName: ep.username, password: ep.password ?? '' }
      : { type: UserTokenType.Anonymous };

  const isCurrent = (c: Connection): boolean => !stopped && conn === c && !c.closing;

  // ── values ────────────────────────────────────────────────────────────────────────────────

  function handleDataValue(node: MappedNode, dv: DataValue, fromPoll: boolean): void {
    const now = new Date();
    const result = convertSample(
      {
        good: dv.statusCode.isGood(),
        statusName: dv.statusCode.name,
        dataType: dv.value.dataType,
        arrayType: dv.value.arrayType,
        value: dv.value.value,
        sourceTimestamp: dv.sourceTimestamp,
        serverTimestamp: dv.serverTimestamp,
      },
      node.mapping,
      now,
    );
    if (result.kind === 'bad') {
      st.badValues++;
      if (/BadNodeId/.test(result.detail) && !node.reportedMissing) {
        // polling a node the server does not have: a mapping error worth surfacing (once per node)
        node.reportedMissing = true;
        st.lastError = `${node.mapping.nodeId}: ${result.detail}`;
        log.warn({ nodeId: node.mapping.nodeId, detail: result.detail }, 'opcua node not readable');
      }
      log.debug({ nodeId: node.mapping.nodeId, detail: result.detail }, 'bad-quality value ignored');
      return;
    }
    if (result.kind === 'invalid') {
      st.invalidValues++;
      log.debug({ nodeId: node.mapping.nodeId, detail: result.detail }, 'non-numeric value ignored');
      return;
    }
    if (fromPoll) {
      // a poll re-reads unchanged values; the same (value, sourceTimestamp) is the same sample
      const key = dv.sourceTimestamp ? `${dv.sourceTimestamp.getTime()}:${result.value}` : undefined;
      if (key !== undefined && key === node.lastPolled) return;
      node.lastPolled = key;
    }
    const { site, asset, metric } = node.mapping;
    st.values++;
    st.lastValueAt = now;
    log.trace({ site, asset, metric, value: result.value, ts: result.ts }, 'opcua value');
    try {
      deps.onValue({ site, asset, metric, value: result.value, ts: result.ts, endpoint: ep.name });
    } catch (err) {
      log.error({ err }, 'onValue handler threw');
    }
  }

  // ── connection lifecycle ──────────────────────────────────────────────────────────────────

  function delayAfterFailure(): number {
    return Math.min(deps.backoff.maxDelayMs, deps.backoff.initialDelayMs * 2 ** Math.min(failures, 16));
  }

  function scheduleOpen(delayMs: number): void {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void open();
    }, delayMs);
  }

  function markUp(how: string): void {
    const wasEver = everConnected;
    if (everConnected) st.reconnects++;
    everConnected = true;
    st.connected = true;
    failures = 0;
    const info = { mode: st.mode, monitoredItems: st.monitoredItems, reconnects: st.reconnects };
    if (wasEver) log.info(info, `opcua endpoint ${how}`);
    else log.info({ ...info, url: ep.url }, 'opcua endpoint connected');
  }

  /** Discards this client generation and builds a new one after a backoff delay. */
  function replace(c: Connection, reason: string): void {
    if (!isCurrent(c)) return;
    conn = undefined;
    st.connected = false;
    st.monitoredItems = 0;
    st.lastError = reason;
    const delay = delayAfterFailure();
    failures++;
    log.warn({ reason, retryInMs: delay }, 'opcua endpoint: rebuilding client, session and subscription');
    close(c);
    scheduleOpen(delay);
  }

  function close(c: Connection): void {
    if (c.closing) return;
    c.closing = true;
    clearTimeout(c.pollTimer);
    clearInterval(c.watchdog);
    const p = withTimeout(c.client.disconnect(), DISCONNECT_TIMEOUT_MS, 'disconnect')
      .catch((err: unknown) => log.debug({ err: errorText(err) }, 'disconnect failed'))
      .finally(() => closing.delete(p));
    closing.add(p);
  }

  async function open(): Promise<void> {
    if (stopped) return;
    let client: OPCUAClient;
    try {
      client = createClient();
    } catch (err) {
      st.lastError = `cannot create client: ${errorText(err)}`;
      log.error({ err: errorText(err) }, 'opcua client creation failed');
      const delay = delayAfterFailure();
      failures++;
      scheduleOpen(delay);
      return;
    }
    const c: Connection = { id: ++nextId, client, lastActivity: Date.now(), closing: false };
    conn = c;
    wireClient(c);
    let stage = 'connect';
    try {
      await client.connect(ep.url);
      if (!isCurrent(c)) return;
      stage = 'create session';
      const session = await client.createSession(identity);
      c.session = session;
      if (!isCurrent(c)) return; // whoever replaced us disconnects the client, which closes the session
      wireSession(c, session);
      stage = 'start acquisition';
      await startAcquisition(c, session);
      if (!isCurrent(c)) return;
      markUp(st.mode === 'subscribe' ? 'reconnected (new session and subscription)' : 'reconnected (new session)');
    } catch (err) {
      if (!isCurrent(c)) return;
      replace(c, `${stage} failed: ${errorText(err)}`);
    }
  }

  function createClient(): OPCUAClient {
    return OPCUAClient.create({
      applicationName: APPLICATION_NAME,
      clientName: `opcua-ingest-${ep.name}`,
      endpointMustExist: false,
      securityMode: MessageSecurityMode[ep.securityMode],
      securityPolicy: SecurityPolicy[ep.securityPolicy],
      clientCertificateManager: deps.certificateManager,
      connectionStrategy: {
        maxRetry: -1, // connect() keeps trying until the endpoint is reachable or we disconnect
        initialDelay: deps.backoff.initialDelayMs,
        maxDelay: deps.backoff.maxDelayMs,
        randomisationFactor: 0.1,
      },
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
    });
  }

  function wireClient(c: Connection): void {
    const { client } = c;
    client.on('backoff', (count: number, delay: number) => {
      if (!isCurrent(c)) return;
      if (!st.connected) st.lastError = `cannot reach ${ep.url} (attempt ${count + 1}), retrying in ${Math.round(delay)} ms`;
      log.debug({ attempt: count + 1, delay }, 'opcua connect retry');
    });
    client.on('connection_lost', () => {
      if (!isCurrent(c)) return;
      st.connected = false;
      st.lastError = 'connection lost';
      log.warn('opcua connection lost; reconnecting');
    });
    client.on('reconnection_attempt_has_failed', (err: Error) => {
      if (!isCurrent(c)) return;
      st.lastError = `reconnection attempt failed: ${errorText(err)}`;
    });
    client.on('connection_reestablished', () => {
      if (!isCurrent(c)) return;
      afterRepair(c);
    });
    client.on('close', (err?: Error | null) => {
      if (!isCurrent(c)) return;
      replace(c, `client closed${err ? `: ${errorText(err)}` : ''}`);
    });
  }

  function wireSession(c: Connection, session: ClientSession): void {
    session.on('session_closed', (statusCode: { name?: string }) => {
      if (!isCurrent(c)) return;
      replace(c, `session closed by server (${statusCode?.name ?? 'unknown status'})`);
    });
    session.on('keepalive_failure', () => {
      if (!isCurrent(c)) return;
      st.lastError = 'session keep-alive failed';
      log.warn('opcua session keep-alive failed');
    });
    // node-opcua re-created a session the server had dropped while the channel stayed up (found by its
    // keep-alive read or a failing request). After a channel loss, connection_reestablished counts instead.
    session.on('session_restored', () => {
      if (!isCurrent(c) || !st.connected) return;
      c.lastActivity = Date.now();
      st.lastError = 'the server dropped the session; node-opcua re-created it';
      afterRepair(c, 'session re-created');
    });
    session.on('session_repaired_failed', (err?: Error) => {
      if (!isCurrent(c)) return;
      st.lastError = `session repair failed: ${errorText(err)}`;
    });
  }

  /** node-opcua re-opened the channel and repaired the session (and transferred or re-created the subscription). */
  function afterRepair(c: Connection, how = 'reconnected'): void {
    c.lastActivity = Date.now();
    if (st.mode === 'subscribe') {
      const sub = c.subscription;
      const accepted = countAccepted(c);
      if (!sub || !sub.isActive || (nodes.length > 0 && accepted === 0)) {
        replace(c, 'subscription not restored after reconnection');
        return;
      }
      st.monitoredItems = accepted;
    }
    markUp(how);
  }

  // ── acquisition ───────────────────────────────────────────────────────────────────────────

  async function startAcquisition(c: Connection, session: ClientSession): Promise<void> {
    st.monitoredItems = 0;
    if (ep.mode === 'poll') {
      st.mode = 'poll';
      st.pollingFallback = false;
      startPolling(c);
      return;
    }
    try {
      await subscribe(c, session);
      st.mode = 'subscribe';
      st.pollingFallback = false;
    } catch (err) {
      if (!isCurrent(c)) return;
      const reason = `subscription failed (${errorText(err)}); polling every ${ep.pollIntervalMs} ms instead`;
      log.warn({ err: errorText(err) }, 'opcua subscription failed; falling back to polling');
      st.mode = 'poll';
      st.pollingFallback = true;
      st.monitoredItems = 0;
      st.lastError = reason;
      if (c.subscription) {
        const sub = c.subscription;
        c.subscription = undefined;
        c.group = undefined;
        sub.removeAllListeners();
        await sub.terminate().catch(() => undefined);
      }
      startPolling(c);
    }
  }

  async function subscribe(c: Connection, session: ClientSession): Promise<void> {
    const maxKeepAliveCount = Math.max(1, Math.ceil(KEEPALIVE_TARGET_MS / ep.publishingIntervalMs));
    const sub = await session.createSubscription2({
      requestedPublishingInterval: ep.publishingIntervalMs,
      requestedMaxKeepAliveCount: maxKeepAliveCount,
      requestedLifetimeCount: Math.max(100, maxKeepAliveCount * 10),
      maxNotificationsPerPublish: 10_000,
      publishingEnabled: true,
      priority: 10,
    });
    c.subscription = sub;
    if (!isCurrent(c)) return;
    const touch = (): void => {
      c.lastActivity = Date.now();
    };
    sub.on('keepalive', touch);
    sub.on('received_notifications', touch);
    sub.on('terminated', () => {
      if (!isCurrent(c) || c.subscription !== sub) return;
      replace(c, 'subscription terminated');
    });
    sub.on('status_changed', (status: { name?: string }) => {
      if (!isCurrent(c)) return;
      st.lastError = `subscription status ${status?.name ?? 'changed'}`;
      log.warn({ status: status?.name }, 'opcua subscription status changed');
    });
    sub.on('internal_error', (err: Error) => {
      if (!isCurrent(c)) return;
      st.lastError = `subscription error: ${errorText(err)}`;
      log.warn({ err: errorText(err) }, 'opcua subscription internal error');
    });

    const group = ClientMonitoredItemGroup.create(
      sub,
      nodes.map((n) => ({ nodeId: n.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: ep.samplingIntervalMs, discardOldest: true, queueSize: 10 },
      TimestampsToReturn.Both,
    );
    c.group = group;
    // attached before the items exist on the server: initial values are never missed
    group.on('changed', (_item, dv: DataValue, index: number) => {
      const node = nodes[index];
      if (node && isCurrent(c)) handleDataValue(node, dv, false);
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        group.once('initialized', () => resolve());
        group.once('err', (message: string) => reject(new Error(message)));
      }),
      MONITOR_TIMEOUT_MS,
      'creating monitored items',
    );
    if (!isCurrent(c)) return;
    const accepted = countAccepted(c);
    if (nodes.length > 0 && accepted === 0) throw new Error(`server rejected all ${nodes.length} monitored items (${rejectedItems(c).join('; ')})`);
    st.monitoredItems = accepted;
    const rejected = rejectedItems(c);
    if (rejected.length > 0) {
      st.lastError = `monitored items rejected: ${rejected.join('; ')}`;
      log.warn({ rejected }, 'opcua monitored items rejected by the server');
    }
    c.lastActivity = Date.now();
    startWatchdog(c, sub);
  }

  function countAccepted(c: Connection): number {
    return c.group ? c.group.monitoredItems.filter((m) => m.statusCode.isGood()).length : 0;
  }

  function rejectedItems(c: Connection): string[] {
    if (!c.group) return [];
    return c.group.monitoredItems.flatMap((m, i) => (m.statusCode.isGood() ? [] : [`${nodes[i]?.mapping.nodeId ?? '?'} ${m.statusCode.name}`]));
  }

  /** Silent subscription (no data and no keep-alive for 3 keep-alive periods while connected) → rebuild. */
  function startWatchdog(c: Connection, sub: ClientSubscription): void {
    const keepAliveMs = Math.max(100, sub.publishingInterval * sub.maxKeepAliveCount);
    const limitMs = 3 * keepAliveMs + 5_000;
    c.watchdog = setInterval(() => {
      if (!isCurrent(c) || !st.connected) return;
      const silentMs = Date.now() - c.lastActivity;
      if (silentMs > limitMs) replace(c, `no publish response or keep-alive for ${Math.round(silentMs / 1000)} s`);
    }, Math.min(keepAliveMs, 5_000));
    c.watchdog.unref();
  }

  function startPolling(c: Connection): void {
    const nodesToRead = nodes.map((n) => ({ nodeId: n.nodeId, attributeId: AttributeIds.Value }));
    const tick = async (): Promise<void> => {
      c.pollTimer = undefined;
      if (!isCurrent(c)) return;
      const session = c.session;
      if (st.connected && session && nodesToRead.length > 0) {
        try {
          const results = await session.read(nodesToRead, 0);
          if (!isCurrent(c)) return;
          results.forEach((dv, i) => {
            const node = nodes[i];
            if (node) handleDataValue(node, dv, true);
          });
        } catch (err) {
          if (!isCurrent(c)) return;
          const text = errorText(err);
          st.lastError = `read failed: ${text}`;
          log.debug({ err: text }, 'opcua poll read failed');
          if (/BadSession(IdInvalid|Closed|NotActivated)/.test(text)) {
            replace(c, `read failed: ${text}`);
            return;
          }
        }
      }
      if (isCurrent(c)) c.pollTimer = setTimeout(() => void tick(), ep.pollIntervalMs);
    };
    c.pollTimer = setTimeout(() => void tick(), 0);
  }

  return {
    start(): void {
      void open();
    },
    status(): EndpointStatus {
      return {
        name: ep.name,
        url: ep.url,
        connected: st.connected,
        mode: st.mode,
        pollingFallback: st.pollingFallback,
        monitoredItems: st.mode === 'subscribe' ? st.monitoredItems : 0,
        ...(st.lastValueAt ? { lastValueAt: st.lastValueAt } : {}),
        ...(st.lastError !== undefined ? { lastError: st.lastError } : {}),
        reconnects: st.reconnects,
        values: st.values,
        badValues: st.badValues,
        invalidValues: st.invalidValues,
      };
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      const c = conn;
      conn = undefined;
      st.connected = false;
      if (c) close(c);
      await Promise.all([...closing]);
    },
  };
}

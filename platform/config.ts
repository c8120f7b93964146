/**
 * Configuration: read from the environment in one place, validated once at start, typed and frozen.
 * Every variable is declared in CONFIG_SPEC; `.env.example` and the README table are checked against it by a test.
 */
import { AppError } from './errors.ts';

type Parser<T> = (raw: string, name: string) => T;

interface VarSpec<T> {
  readonly env: string;
  readonly description: string;
  /** Default as the user would write it in .env; undefined = optional with no default. */
  readonly default: string | undefined;
  readonly parse: Parser<T>;
}

const fail = (name: string, msg: string): never => {
  throw new AppError('validation', `${name}: ${msg}`);
};

const str: Parser<string> = (raw) => raw;
const int =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) return fail(name, `expected an integer, got "${raw}"`);
    if (n < min || n > max) return fail(name, `must be between ${min} and ${max}, got ${n}`);
    return n;
  };
const num =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) return fail(name, `expected a number, got "${raw}"`);
    if (n < min || n > max) return fail(name, `must be between ${min} and ${max}, got ${n}`);
    return n;
  };
const bool: Parser<boolean> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return fail(name, `expected true/false, got "${raw}"`);
};
const url =
  (...protocols: string[]): Parser<string> =>
  (raw, name) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return fail(name, `not a valid URL: "${raw}"`);
    }
    if (!protocols.includes(u.protocol)) return fail(name, `protocol must be one of ${protocols.join(', ')}, got ${u.protocol}`);
    return raw;
  };
const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw, name) =>
    (values as string[]).includes(raw) ? (raw as T) : fail(name, `must be one of ${values.join(', ')}, got "${raw}"`);
const roles: Parser<ReadonlyArray<Role>> = (raw, name) => {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return fail(name, 'at least one role is required');
  for (const p of parts) if (!ROLES.includes(p as Role)) fail(name, `unknown role "${p}" (roles: ${ROLES.join(', ')})`);
  return Object.freeze([...new Set(parts)] as Role[]);
};

export const ROLES = ['api', 'ingest', 'rules'] as const;
export type Role = (typeof ROLES)[number];

const spec = <T>(env: string, def: string | undefined, parse: Parser<T>, description: string): VarSpec<T> => ({
  env,
  default: def,
  parse,
  description,
});

export const CONFIG_SPEC = {
  logLevel: spec('LOG_LEVEL', 'info', oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'), 'pino log level'),
  requestLog: spec(
    'REQUEST_LOG',
    'all',
    oneOf('all', 'errors', 'off'),
    'API access log, one line per request at info level (method, path, status, ms, read-cache outcome, caller, address): all, errors (status ≥ 400) or off',
  ),
  roles: spec('ROLES', 'api,ingest,rules', roles, 'Which parts this process runs (comma list of api, ingest, rules)'),
  ingestThread: spec(
    'INGEST_THREAD',
    'auto',
    oneOf('auto', 'on', 'off'),
    'When this process runs the api role and ingest or rules: on = those run in a worker thread (own event loop and heap), so a busy ingest does not delay API requests (needs DATABASE_URL); off = one thread; auto = on with DATABASE_URL, off on the embedded database',
  ),
  httpHost: spec('HTTP_HOST', '127.0.0.1', str, 'API listen address'),
  httpPort: spec('HTTP_PORT', '3000', int(0, 65535), 'API port (0 = any free port)'),
  dataDir: spec('DATA_DIR', './data', str, 'Directory for embedded data (PGlite database, spool files)'),
  databaseUrl: spec('DATABASE_URL', undefined, url('postgres:', 'postgresql:'), 'PostgreSQL URL; unset = embedded PGlite under DATA_DIR'),
  mqttMode: spec('MQTT_MODE', 'embedded', oneOf('embedded', 'external'), 'embedded = run the aedes broker in-process; external = subscribe to MQTT_URL (Mosquitto, EMQX, HiveMQ)'),
  mqttUrl: spec('MQTT_URL', undefined, url('mqtt:', 'mqtts:', 'ws:', 'wss:'), 'External broker URL (MQTT_MODE=external)'),
  mqttUsername: spec('MQTT_USERNAME', undefined, str, 'External broker username'),
  mqttPassword: spec('MQTT_PASSWORD', undefined, str, 'External broker password'),
  mqttClientId: spec('MQTT_CLIENT_ID', undefined, str, 'External broker client id; must be stable per instance (default om-ingest-<hostname>)'),
  mqttShareGroup: spec('MQTT_SHARE_GROUP', 'om-ingest', str, 'MQTT 5 shared-subscription group so instances split the load ("" = plain subscription)'),
  mqttHost: spec('MQTT_HOST', '127.0.0.1', str, 'Embedded broker listen address'),
  mqttPort: spec('MQTT_PORT', '1883', int(0, 65535), 'Embedded broker port (0 = any free port)'),
  mqttAuth: spec('MQTT_AUTH', 'devices', oneOf('devices', 'none'), 'devices = clients need device credentials and may publish only for their asset/site; none = open broker'),
  staleAfterS: spec('STALE_AFTER_S', '300', int(0, 30 * 24 * 3600), 'Raise a STALE alarm when an in-service asset sends nothing for this long (0 = off)'),
  opcuaConfig: spec('OPCUA_CONFIG', undefined, str, 'Path of the OPC-UA mapping file (endpoints, nodeIds → site/asset/metric); unset = no OPC-UA ingest'),
  mqttMaxPayloadBytes: spec('MQTT_MAX_PAYLOAD_BYTES', '65536', int(64, 16 * 1024 * 1024), 'Larger telemetry payloads are dead-lettered'),
  ingestQueueLimit: spec('INGEST_QUEUE_LIMIT', '100000', int(100, 10_000_000), 'Messages buffered between broker and pipeline before new ones are refused'),
  ingestJournal: spec(
    'INGEST_JOURNAL',
    'on',
    oneOf('on', 'off'),
    'on = every received message is appended to a write-ahead log (DATA_DIR/journal) before it is acknowledged and replayed at start-up if the process died before storing it; off = a crash loses what was acknowledged but not yet stored',
  ),
  meterMetrics: spec(
    'METER_METRICS',
    'runHours,cycles,km',
    (raw) => Object.freeze(raw.split(',').map((s) => s.trim()).filter(Boolean)),
    'Metrics that are cumulative counters; their latest value is kept per asset as a meter',
  ),
  influxUrl: spec('INFLUX_URL', undefined, url('http:', 'https:'), 'InfluxDB URL (v1 /write + /query API); unset = embedded SQL table'),
  influxDatabase: spec('INFLUX_DATABASE', 'om', str, 'InfluxDB database (v1) / DBRP-mapped bucket (v2+)'),
  influxToken: spec('INFLUX_TOKEN', undefined, str, 'InfluxDB 2.x/3.x token (sent as "Authorization: Token ...")'),
  influxUsername: spec('INFLUX_USERNAME', undefined, str, 'InfluxDB 1.x username'),
  influxPassword: spec('INFLUX_PASSWORD', undefined, str, 'InfluxDB 1.x password'),
  influxCreateDatabase: spec('INFLUX_CREATE_DATABASE', 'true', bool, 'Issue CREATE DATABASE at start (InfluxDB 1.x)'),
  telemetryBatchSize: spec('TELEMETRY_BATCH_SIZE', '5000', int(1, 1_000_000), 'Points per write batch'),
  telemetryFlushMs: spec('TELEMETRY_FLUSH_MS', '1000', int(10, 600_000), 'Maximum time a point waits in the write buffer'),
  telemetryMaxBuffered: spec('TELEMETRY_MAX_BUFFERED', '1000000', int(1000, 100_000_000), 'Points kept in memory while the telemetry store is unreachable'),
  telemetrySpoolMaxMb: spec('TELEMETRY_SPOOL_MAX_MB', '1024', int(1, 1_000_000), 'Disk space for spooled telemetry (DATA_DIR/spool) while InfluxDB is unreachable'),
  rulesTickMs: spec('RULES_TICK_MS', '60000', int(100, 3_600_000), 'How often calendar PM (and the calendar side of usage rules) is checked'),
  rulesReloadMs: spec('RULES_RELOAD_MS', '10000', int(100, 3_600_000), 'How often rule definitions are re-read (picks up changes from other instances)'),
  assetCodeConvention: spec(
    'ASSET_CODE_CONVENTION',
    '{type}-{brand}-{model}-{serial}',
    str,
    'Asset code naming convention: fields in braces (type, brand, model, serial, site), joined by literal separators; codes are upper-case',
  ),
  assetCodeMode: spec(
    'ASSET_CODE_MODE',
    'enforce',
    oneOf('enforce', 'generate', 'off'),
    'enforce = a given code must equal the convention applied to the asset fields (omitted = generated); generate = generated when omitted, free otherwise; off = free codes, required',
  ),
  warrantyAlertDays: spec('WARRANTY_ALERT_DAYS', '30', int(0, 3650), 'Notify this many days before an asset warranty ends (0 = off)'),
  attachmentsDir: spec('ATTACHMENTS_DIR', undefined, str, 'Where uploaded files are stored (default DATA_DIR/attachments)'),
  attachmentMaxBytes: spec('ATTACHMENT_MAX_BYTES', '10485760', int(1024, 1024 * 1024 * 1024), 'Largest accepted upload (photos, documents, signatures)'),
  attachmentTypes: spec(
    'ATTACHMENT_TYPES',
    'image/jpeg,image/png,image/webp,image/svg+xml,application/pdf,text/plain,text/csv',
    (raw) => Object.freeze(raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)),
    'Accepted content types (checked against the file signature, not only the declared type)',
  ),
  authMode: spec('AUTH_MODE', 'on', oneOf('on', 'off'), 'on = every API call needs a session token or API key (roles, row-level access); off = no authentication, for local experiments only'),
  adminPassword: spec('ADMIN_PASSWORD', undefined, str, 'Password of the `admin` user created at first start when there are no users (unset = generated and logged once)'),
  sessionSecret: spec('SESSION_SECRET', undefined, str, 'HMAC key for session tokens (≥ 32 chars; shared by all instances). Unset = generated once and kept in DATA_DIR/session-secret'),
  sessionTtlS: spec('SESSION_TTL_S', '43200', int(60, 30 * 24 * 3600), 'How long a login session lasts'),
  authCacheMs: spec('AUTH_CACHE_MS', '5000', int(0, 60_000), 'How long an API key or session user looked up in the database is reused by this instance (0 = every request reads it). Changes made through this instance apply at once; changes made through another instance apply within this time'),
  readCacheMs: spec(
    'READ_CACHE_MS',
    '60000',
    int(0, 3_600_000),
    'API read cache: the hot GET responses (work orders, assets; list and detail) are reused until something they show changes (row-level, PostgreSQL NOTIFY at commit) — a caller’s own writes at once, anybody else’s milliseconds after commit — and for at most this long (0 = off)',
  ),
  readCacheActivityMs: spec(
    'READ_CACHE_ACTIVITY_MS',
    '5000',
    int(0, 3_600_000),
    'How much longer a cached asset response may show an older last-seen time or meter reading (ingest writes these once a second, so they already lag the devices by up to a second); any other change invalidates at once. Capped at READ_CACHE_MS',
  ),
  readCacheRefreshAhead: spec(
    'READ_CACHE_REFRESH_AHEAD',
    'false',
    bool,
    'Read a cached response again in the background when it is hit in the second half of its life (half of READ_CACHE_ACTIVITY_MS once activity changed, else of READ_CACHE_MS), so that requests do not wait for it. Off by default: it costs about 1.6× the reads, and under bench:api (1,000 req/s, 10,000 readings/s) the tail measured worse with it (p99 26–35 ms) than without (12–13 ms)',
  ),
  readCacheMb: spec('READ_CACHE_MB', '64', int(1, 65_536), 'Size bound of the API read cache (least recently used responses go first)'),
  loginMaxFailures: spec('LOGIN_MAX_FAILURES', '5', int(1, 100), 'Failed logins in a row before the account is locked'),
  loginLockMinutes: spec('LOGIN_LOCK_MINUTES', '15', int(1, 24 * 60), 'How long a locked account stays locked'),
  rateLimitPerMin: spec('RATE_LIMIT_PER_MIN', '120000', int(0, 100_000_000), 'API requests per minute per client (user or API key when authenticated, else IP) before 429 (0 = no limit; /health is exempt)'),
  rateLimitLoginPerMin: spec('RATE_LIMIT_LOGIN_PER_MIN', '20', int(0, 1_000_000), 'Failed logins and refused credentials per minute per IP before that IP gets 429 on login and credentialed calls (0 = no limit)'),
  hstsMaxAgeS: spec('HSTS_MAX_AGE_S', '0', int(0, 2 * 365 * 24 * 3600), 'Strict-Transport-Security max-age sent when the API is served over TLS (e.g. behind a TLS proxy); 0 = no HSTS header (plain HTTP)'),
  autoAssign: spec(
    'AUTO_ASSIGN',
    '',
    (raw, name) => {
      const sources = ['manual', 'customer', 'rule', 'pm', 'followup', '*'];
      const priorities = ['low', 'medium', 'high', 'urgent', '*'];
      const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
      for (const p of list) {
        const [source = '', priority = '*', extra] = p.split(':');
        if (extra !== undefined || !sources.includes(source) || !priorities.includes(priority)) {
          fail(name, `"${p}" is not source[:priority] (sources ${sources.join('/')}, priorities ${priorities.join('/')})`);
        }
      }
      return Object.freeze(list);
    },
    'New orders assigned automatically to the best engineer: comma list of source[:priority], e.g. "rule:urgent,rule:high,customer:*" ("" = none; "*" = all)',
  ),
  pmTickMs: spec('PM_TICK_MS', '60000', int(100, 3_600_000), 'How often PM plans are checked for due work'),
  surveyTtlDays: spec('SURVEY_TTL_DAYS', '14', int(1, 365), 'How long a CSAT survey link stays valid'),
  csatLowScore: spec('CSAT_LOW_SCORE', '2', int(1, 4), 'A CSAT score at or below this opens a follow-up order (escalation)'),
  webhookPollMs: spec('WEBHOOK_POLL_MS', '500', int(10, 600_000), 'How often the webhook worker (rules role) looks for new outbox events and due deliveries'),
  webhookTimeoutMs: spec('WEBHOOK_TIMEOUT_MS', '10000', int(100, 300_000), 'Timeout of one webhook request (connect, response and body); a timeout counts as a failed attempt'),
  webhookMaxAttempts: spec('WEBHOOK_MAX_ATTEMPTS', '10', int(1, 100), 'Attempts per webhook delivery before it is marked failed (it can be re-queued by hand)'),
  webhookBackoffMs: spec('WEBHOOK_BACKOFF_MS', '5000', int(1, 86_400_000), 'Wait after the first failed webhook attempt; doubles per attempt (minus up to 50% jitter)'),
  webhookBackoffMaxMs: spec('WEBHOOK_BACKOFF_MAX_MS', '3600000', int(1, 7 * 86_400_000), 'Longest wait between two webhook attempts'),
  publicUrl: spec('PUBLIC_URL', undefined, url('http:', 'https:'), 'Base URL used in links sent to people (CSAT survey); default the API address'),
  simulatorEnabled: spec('SIMULATOR_ENABLED', 'false', bool, 'Run the demo fleet simulator inside the service (seeds a demo site)'),
  simulatorAssets: spec('SIMULATOR_ASSETS', '6', int(1, 10_000), 'Number of simulated machines'),
  simulatorIntervalMs: spec('SIMULATOR_INTERVAL_MS', '1000', int(10, 600_000), 'Publish interval per machine'),
  simulatorHoursPerTick: spec('SIMULATOR_HOURS_PER_TICK', '10', num(0, 10_000), 'Run-hours added per tick (accelerated time)'),
} as const;

type Spec = typeof CONFIG_SPEC;
type ValueOf<K extends keyof Spec> = Spec[K] extends VarSpec<infer T> ? T : never;
type Optional = 'databaseUrl' | 'influxUrl' | 'influxToken' | 'influxUsername' | 'influxPassword' | 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'mqttClientId' | 'opcuaConfig' | 'attachmentsDir' | 'publicUrl' | 'adminPassword' | 'sessionSecret';

export type Config = Readonly<
  { [K in Exclude<keyof Spec, Optional>]: ValueOf<K> } & { [K in Optional]: ValueOf<K> | undefined }
>;

/** Parse and validate; throws one AppError listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, s] of Object.entries(CONFIG_SPEC) as [string, VarSpec<unknown>][]) {
    const raw = env[s.env];
    const value = raw === undefined || raw === '' ? s.default : raw;
    if (value === undefined) {
      out[key] = undefined;
      continue;
    }
    try {
      out[key] = s.parse(value, s.env);
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (out.mqttMode === 'external' && !out.mqttUrl) problems.push('MQTT_URL: required when MQTT_MODE=external');
  if (out.ingestThread === 'on' && !out.databaseUrl) problems.push('INGEST_THREAD: "on" needs DATABASE_URL (the embedded PGlite database is open in one thread only)');
  if (problems.length > 0) throw new AppError('validation', `invalid configuration: ${problems.join('; ')}`, { problems });
  return Object.freeze(out) as Config;
}

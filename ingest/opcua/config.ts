/**
 * OPC-UA ingest configuration: which endpoints to connect to and which nodeIds become which
 * site/asset/metric. Pure: validates a JSON value (defaults applied) and reports every problem with
 * its JSON path; `loadOpcUaConfigFile` is the only I/O here.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Settings } from 'typebox/system';
import { AppError } from '../../platform/errors.ts';
import { CODE, METRIC_NAME } from '../telemetry-schema.ts';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export const ACQUISITION_MODES = ['subscribe', 'poll'] as const;

/** `opc.tcp://host[:port][/path]` */
const OPC_TCP_URL = /^opc\.tcp:\/\/[^\s/:?#]+(?::\d{1,5})?(?:\/\S*)?$/;
/**
 * OPC-UA string form of a NodeId (Part 6 §5.3.1.10) with a namespace index: `[ns=<idx>;]` then
 * `i=<number>`, `s=<string>`, `g=<guid>` or `b=<base64>`. (`nsu=<uri>` is not supported.)
 */
const NODE_ID = /^(?:ns=\d{1,5};)?(?:i=\d{1,10}|s=.+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/]+={0,2})$/;

const MAX_INTERVAL_MS = 3_600_000;
const interval = (min: number, description: string) =>
  Type.Integer({ minimum: min, maximum: MAX_INTERVAL_MS, default: 1000, description });

export const OpcUaNodeMapping = Type.Object(
  {
    nodeId: Type.String({ pattern: NODE_ID.source, description: 'e.g. "ns=2;s=Pump1.Temperature" or "ns=3;i=1001"' }),
    site: Type.String({ pattern: CODE.source, description: 'site code' }),
    asset: Type.String({ pattern: CODE.source, description: 'asset code' }),
    metric: Type.String({ pattern: METRIC_NAME.source, description: 'metric name as stored in telemetry' }),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'unit after scaling, informational' })),
    scale: Type.Number({ default: 1, description: 'stored value = raw * scale + offset' }),
    offset: Type.Number({ default: 0 }),
  },
  { additionalProperties: false },
);
export type OpcUaNodeMapping = Static<typeof OpcUaNodeMapping>;

export const OpcUaEndpointConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, description: 'unique name, shown in /health and logs' }),
    url: Type.String({ pattern: OPC_TCP_URL.source, description: 'opc.tcp://host:port[/path]' }),
    securityMode: Type.Enum([...SECURITY_MODES], { default: 'None' }),
    securityPolicy: Type.Enum([...SECURITY_POLICIES], { default: 'None' }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    mode: Type.Enum([...ACQUISITION_MODES], { default: 'subscribe' }),
    samplingIntervalMs: interval(0, 'server-side sampling interval of each monitored item'),
    publishingIntervalMs: interval(10, 'subscription publishing interval'),
    pollIntervalMs: interval(10, 'read interval in poll mode (and in the fallback when subscriptions fail)'),
    nodes: Type.Array(OpcUaNodeMapping, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type OpcUaEndpointConfig = Static<typeof OpcUaEndpointConfig>;

export const OpcUaConfig = Type.Object({ endpoints: Type.Array(OpcUaEndpointConfig) }, { additionalProperties: false });
export type OpcUaConfig = Static<typeof OpcUaConfig>;

const validator = Compile(OpcUaConfig);

export interface ConfigProblem {
  /** JSON pointer into the input, e.g. `/endpoints/0/nodes/2/metric`. */
  path: string;
  message: string;
}

const PATTERN_MESSAGES: Record<string, string> = {
  url: 'must be an opc.tcp:// URL (opc.tcp://host:port[/path])',
  nodeId: 'must be a NodeId like "ns=2;s=Pump1.Temperature", "ns=3;i=1001", "ns=1;g=<guid>" or "ns=1;b=<base64>" (nsu= is not supported)',
  site: 'must be a code: letters, digits, "_", "." or "-", starting with a letter or digit, at most 64 characters',
  asset: 'must be a code: letters, digits, "_", "." or "-", starting with a letter or digit, at most 64 characters',
  metric: 'must be a metric name: a letter followed by letters, digits or "_", at most 64 characters',
};

/** TypeBox stops collecting after `maxErrors` (global, default 8); a config report should list them all. */
const MAX_REPORTED_ERRORS = 500;
function allErrors(value: unknown): ReturnType<typeof validator.Errors> {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: MAX_REPORTED_ERRORS }); // synchronous: restored before anything else runs
  try {
    return validator.Errors(value);
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

function schemaProblems(value: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const e of allErrors(value)) {
    const path = e.instancePath || '/';
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'boolean': // "schema is false": the additionalProperties error below says it better
        break;
      case 'additionalProperties':
        for (const name of (params.additionalProperties as string[] | undefined) ?? []) {
          out.push({ path: `${e.instancePath}/${name}`, message: 'unknown property' });
        }
        break;
      case 'required':
        for (const name of (params.requiredProperties as string[] | undefined) ?? []) {
          out.push({ path: `${e.instancePath}/${name}`, message: 'is required' });
        }
        break;
      case 'enum':
        out.push({ path, message: `must be one of ${((params.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}` });
        break;
      case 'pattern': {
        const field = path.slice(path.lastIndexOf('/') + 1);
        out.push({ path, message: PATTERN_MESSAGES[field] ?? e.message });
        break;
      }
      default:
        out.push({ path, message: e.message });
    }
  }
  return out;
}

/** Rules JSON Schema cannot express: security mode/policy pairing, credentials, uniqueness. */
function crossFieldProblems(config: OpcUaConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const names = new Map<string, number>();
  const mappings = new Map<string, string>();
  config.endpoints.forEach((ep, i) => {
    const at = `/endpoints/${i}`;
    const first = names.get(ep.name);
    if (first !== undefined) out.push({ path: `${at}/name`, message: `duplicate endpoint name "${ep.name}" (also /endpoints/${first}/name)` });
    else names.set(ep.name, i);
    if (ep.securityMode === 'None' && ep.securityPolicy !== 'None') {
      out.push({ path: `${at}/securityPolicy`, message: `must be "None" when securityMode is "None" (or set securityMode to "Sign"/"SignAndEncrypt")` });
    }
    if (ep.securityMode !== 'None' && ep.securityPolicy === 'None') {
      out.push({ path: `${at}/securityPolicy`, message: `securityMode "${ep.securityMode}" needs a securityPolicy other than "None"` });
    }
    if (ep.username !== undefined && ep.password === undefined) out.push({ path: `${at}/password`, message: 'is required when username is set' });
    if (ep.password !== undefined && ep.username === undefined) out.push({ path: `${at}/username`, message: 'is required when password is set' });
    ep.nodes.forEach((n, j) => {
      const key = `${n.site}/${n.asset}/${n.metric}`;
      const other = mappings.get(key);
      if (other !== undefined) out.push({ path: `${at}/nodes/${j}`, message: `${key} is already mapped by ${other}` });
      else mappings.set(key, `${at}/nodes/${j}`);
    });
  });
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export type OpcUaConfigCheck = { ok: true; config: OpcUaConfig } | { ok: false; problems: ConfigProblem[] };

/** Applies defaults and validates; never throws. The input is not modified. */
export function checkOpcUaConfig(json: unknown): OpcUaConfigCheck {
  const value = validator.Default(structuredClone(json));
  const problems = schemaProblems(value);
  if (problems.length > 0) return { ok: false, problems };
  const config = value as OpcUaConfig;
  const more = crossFieldProblems(config);
  if (more.length > 0) return { ok: false, problems: more };
  return { ok: true, config: deepFreeze(config) };
}

/**
 * Typed, frozen config with defaults applied, or an AppError('validation') whose message lists every
 * problem as `<json path>: <message>` (also in `details`).
 */
export function parseOpcUaConfig(json: unknown, source = 'OPC-UA config'): OpcUaConfig {
  const result = checkOpcUaConfig(json);
  if (result.ok) return result.config;
  const lines = result.problems.map((p) => `  ${p.path}: ${p.message}`);
  throw new AppError('validation', `${source} is invalid (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, result.problems);
}

/** Reads and validates a JSON config file; errors name the file. */
export function loadOpcUaConfigFile(path: string): OpcUaConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AppError('validation', `cannot read OPC-UA config ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppError('validation', `OPC-UA config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseOpcUaConfig(json, `OPC-UA config ${path}`);
}

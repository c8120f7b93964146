import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Never logged in clear: credentials in bound objects (passwords, tokens, secrets, API keys,
 * hashes), credential headers, and the secrets in the configuration.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  '*.password',
  '*.newPassword',
  '*.token',
  '*.secret',
  '*.key',
  '*.apiKey',
  '*.passwordHash',
  '*.secretHash',
  'password',
  'token',
  'secret',
  'config.influxToken',
  'config.influxPassword',
  'config.mqttPassword',
  'config.databaseUrl',
  'config.adminPassword',
  'config.sessionSecret',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]);

/** One root logger; modules take `root.child({ module })`. Secrets never reach the bindings. `destination` for tests. */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'om-platform' },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

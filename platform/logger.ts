import { pino, type Logger } from 'pino';

export type { Logger };

/** One root logger; modules take `root.child({ module })`. Secrets never reach the bindings. */
export function createRootLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'om-platform' },
    redact: { paths: ['*.password', '*.token', '*.secret', '*.passwordHash', '*.secretHash', 'config.influxToken', 'config.influxPassword', 'config.databaseUrl', 'config.adminPassword', 'config.sessionSecret', 'req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
  });
}

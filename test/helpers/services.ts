/**
 * Access to the service URLs provided by test/global-setup.ts.
 *
 *   const reason = skipReason('databaseUrl');
 *   describe.skipIf(reason)(`orders repo ${reason ?? ''}`, () => { ... requireService('databaseUrl')! ... });
 */
import { inject } from 'vitest';
import { SERVICE_LABELS, type ServiceName, type ServiceUrls } from '../services/local-services.js';
// Brings the `ProvidedContext` augmentation (services: ServiceUrls) into scope.
import type {} from '../global-setup.js';

export type { ServiceName, ServiceUrls };

/** All service URLs (plus `missing`) as provided by the global setup. */
export function services(): ServiceUrls {
  return inject('services');
}

/** The URL of one service, or undefined if it is not available in this run. */
export function requireService(name: ServiceName): string | undefined {
  return services()[name];
}

/**
 * undefined if all named services are available, otherwise a human-readable reason such as
 * "needs PostgreSQL (apt-get install postgresql)" – meant for `describe.skipIf(reason)(`… ${reason ?? ''}`)`.
 */
export function skipReason(...names: ServiceName[]): string | undefined {
  const s = services();
  const absent = names.filter((n) => !s[n]).map((n) => SERVICE_LABELS[n]);
  return absent.length > 0 ? `needs ${absent.join(', ')}` : undefined;
}

/**
 * Device authentication and topic ACLs for the embedded broker.
 * Secrets are scrypt-hashed (`scrypt$N$r$p$salt$hash`); scope checks are pure functions.
 *   asset scope: may publish only plant/{its site}/{its asset}/(telemetry|alarm|status)
 *   site scope (gateway): may publish for any asset of its site
 */
export { hashSecret, newSecret, verifySecret } from '../platform/secrets.ts';

export interface DeviceScope {
  credentialId: string;
  username: string;
  site: string;
  /** undefined = gateway for the whole site */
  asset: string | undefined;
}

const PUBLISHABLE = new Set(['telemetry', 'alarm', 'status']);

export function mayPublish(scope: DeviceScope, topic: string): { ok: true } | { ok: false; reason: string } {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'plant' || !PUBLISHABLE.has(parts[3] ?? '')) {
    return { ok: false, reason: `devices may only publish plant/{site}/{asset}/telemetry|alarm|status, not ${topic}` };
  }
  if (parts[1] !== scope.site) return { ok: false, reason: `${scope.username} may not publish for site ${parts[1]}` };
  if (scope.asset !== undefined && parts[2] !== scope.asset) return { ok: false, reason: `${scope.username} may not publish for asset ${parts[2]}` };
  return { ok: true };
}

/** Devices may subscribe only inside their own subtree (e.g. commands later); no wildcards across assets. */
export function maySubscribe(scope: DeviceScope, filter: string): boolean {
  const parts = filter.split('/');
  if (parts[0] !== 'plant' || parts[1] !== scope.site) return false;
  if (scope.asset === undefined) return parts.length >= 3;
  return parts[2] === scope.asset;
}

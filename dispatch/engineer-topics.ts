/**
 * MQTT contract between the platform and the engineer app (pure):
 *   om/engineers/{code}/orders    platform → app: assignment / withdrawal messages (QoS 1)
 *   om/engineers/{code}/location  app → platform: {"lat": 31.2, "lon": 121.5, "at"?: ISO time}
 */
import { isLatLon } from './geo.ts';

export const ENGINEER_ROOT = 'om/engineers';
export const ENGINEER_LOCATION_SUBSCRIPTION = `${ENGINEER_ROOT}/+/location`;
export const engineerOrdersTopic = (code: string): string => `${ENGINEER_ROOT}/${code}/orders`;

/** The engineer code of a location topic, else null (not an engineer topic). */
export function engineerOfLocationTopic(topic: string): string | null {
  const parts = topic.split('/');
  return parts.length === 4 && `${parts[0]}/${parts[1]}` === ENGINEER_ROOT && parts[3] === 'location' && parts[2] ? parts[2] : null;
}

export type LocationFix = { ok: true; lat: number; lon: number; at: Date | undefined } | { ok: false; reason: 'invalid_json' | 'invalid_payload'; detail: string };

export function decodeLocation(payload: Buffer): LocationFix {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_json', detail: 'location payload is not JSON' };
  }
  if (typeof body !== 'object' || body === null) return { ok: false, reason: 'invalid_payload', detail: 'location payload must be an object {lat, lon, at?}' };
  const { lat, lon, at } = body as Record<string, unknown>;
  if (typeof lat !== 'number' || typeof lon !== 'number' || !isLatLon({ lat, lon })) return { ok: false, reason: 'invalid_payload', detail: 'lat/lon missing or out of range' };
  if (at !== undefined && (typeof at !== 'string' || Number.isNaN(Date.parse(at)))) return { ok: false, reason: 'invalid_payload', detail: '"at" must be an ISO date-time' };
  return { ok: true, lat, lon, at: typeof at === 'string' ? new Date(at) : undefined };
}

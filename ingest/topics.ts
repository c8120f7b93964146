/**
 * The MQTT topic contract (documented in ingest/README.md):
 *   plant/{site}/{asset}/telemetry   JSON {"ts"?: epoch-ms | ISO-8601, "metrics": {"runHours": 512.3, "temperature": 71.2}}
 *                                    or a batch {"readings": [{"ts", "metrics"}, ...]} (≤ 1000)
 *   plant/{site}/{asset}/alarm       JSON {"ts"?, "code": "E01", "severity"?: critical|major|minor|warning, "active"?: boolean, "message"?: string}
 *   plant/{site}/{asset}/status      "online" | "offline" (or JSON {"online": bool}); devices set it retained, with "offline" as last will
 */
import { CODE } from './telemetry-schema.ts';

export const TOPIC_ROOT = 'plant';
export const SUBSCRIPTION = `${TOPIC_ROOT}/+/+/+`;

export type MessageKind = 'telemetry' | 'alarm' | 'status';

export interface ParsedTopic {
  site: string;
  asset: string;
  kind: MessageKind;
}

export const telemetryTopic = (site: string, asset: string): string => `${TOPIC_ROOT}/${site}/${asset}/telemetry`;
export const alarmTopic = (site: string, asset: string): string => `${TOPIC_ROOT}/${site}/${asset}/alarm`;
export const statusTopic = (site: string, asset: string): string => `${TOPIC_ROOT}/${site}/${asset}/status`;

/** undefined = not one of ours (other topics on the broker are left alone). */
export function parseTopic(topic: string): ParsedTopic | { error: string } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== TOPIC_ROOT) return undefined;
  if (parts.length !== 4) return { error: `expected ${TOPIC_ROOT}/{site}/{asset}/{telemetry|alarm}, got ${parts.length} levels` };
  const [, site = '', asset = '', kind = ''] = parts;
  if (kind !== 'telemetry' && kind !== 'alarm' && kind !== 'status') return { error: `unknown message kind "${kind}" (telemetry, alarm or status)` };
  if (!CODE.test(site)) return { error: `invalid site code "${site}"` };
  if (!CODE.test(asset)) return { error: `invalid asset code "${asset}"` };
  return { site, asset, kind };
}

/**
 * Pushes dashboards to a Grafana instance over its HTTP API: one
 * `POST <grafanaUrl>/api/dashboards/db {dashboard, overwrite: true, folderUid?, message}` per board.
 * Auth: a service-account token (Bearer) or basic auth. Results are reported per dashboard; a
 * Grafana that does not answer at all is reported as unreachable.
 */
import type { DashboardJson } from './board.ts';

export interface PushTarget {
  grafanaUrl: string;
  apiToken?: string;
  username?: string;
  password?: string;
  folderUid?: string;
}

export interface PushResult {
  uid: string;
  title: string;
  ok: boolean;
  /** HTTP status Grafana answered with (undefined when it did not answer). */
  status?: number;
  /** Grafana's URL path of the stored dashboard, e.g. /d/om-fleet-telemetry/fleet-telemetry-overview. */
  url?: string;
  version?: number;
  error?: string;
}

export interface PushReport {
  grafanaUrl: string;
  reachable: boolean;
  pushed: number;
  failed: number;
  results: PushResult[];
}

export interface PushOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

function authHeader(t: PushTarget): string | undefined {
  if (t.apiToken) return `Bearer ${t.apiToken}`;
  if (t.username !== undefined) return `Basic ${Buffer.from(`${t.username}:${t.password ?? ''}`).toString('base64')}`;
  return undefined;
}

/** The short reason of a failed fetch (ECONNREFUSED, ENOTFOUND, timeout…). */
function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

export async function pushDashboards(boards: readonly DashboardJson[], target: PushTarget, opts: PushOptions = {}): Promise<PushReport> {
  const doFetch = opts.fetch ?? fetch;
  const endpoint = new URL('api/dashboards/db', target.grafanaUrl.endsWith('/') ? target.grafanaUrl : `${target.grafanaUrl}/`);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const auth = authHeader(target);
  if (auth) headers.authorization = auth;

  const results: PushResult[] = [];
  let reachable = false;
  for (const [i, board] of boards.entries()) {
    // `id: null` makes Grafana match by uid; overwrite replaces whatever version it holds
    const body = { dashboard: { ...board, id: null }, overwrite: true, message: 'pushed by the O&M platform', ...(target.folderUid ? { folderUid: target.folderUid } : {}) };
    let res: Response;
    try {
      res = await doFetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch (err) {
      const error = `Grafana unreachable: ${networkReason(err)}`;
      // nothing answered yet: do not wait for a timeout per board
      const rest = reachable ? [board] : boards.slice(i);
      for (const b of rest) results.push({ uid: b.uid, title: b.title, ok: false, error });
      if (reachable) continue;
      break;
    }
    reachable = true;
    const text = await res.text();
    let answer: { url?: unknown; version?: unknown; message?: unknown } = {};
    try {
      answer = text ? (JSON.parse(text) as typeof answer) : {};
    } catch {
      answer = { message: text.slice(0, 200) };
    }
    if (res.ok) {
      results.push({
        uid: board.uid,
        title: board.title,
        ok: true,
        status: res.status,
        ...(typeof answer.url === 'string' ? { url: answer.url } : {}),
        ...(typeof answer.version === 'number' ? { version: answer.version } : {}),
      });
    } else {
      const message = typeof answer.message === 'string' && answer.message ? answer.message : res.statusText;
      results.push({ uid: board.uid, title: board.title, ok: false, status: res.status, error: `Grafana answered ${res.status}: ${message}` });
    }
  }
  const pushed = results.filter((r) => r.ok).length;
  return { grafanaUrl: target.grafanaUrl, reachable, pushed, failed: results.length - pushed, results };
}

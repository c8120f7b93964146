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
      // redirects are not followed: a proxy sending us to a login page must not read as "stored"
      res = await doFetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
    } catch (err) {
      const error = `Grafana unreachable: ${networkReason(err)}`;
      // nothing answered yet: do not wait for a timeout per board
      const rest = reachable ? [board] : boards.slice(i);
      for (const b of rest) results.push({ uid: b.uid, title: b.title, ok: false, error });
      if (reachable) continue;
      break;
    }
    reachable = true;
    let text = '';
    try {
      text = await res.text();
    } catch (err) {
      results.push({ uid: board.uid, title: board.title, ok: false, status: res.status, error: `Grafana answered ${res.status} but the body could not be read: ${networkReason(err)}` });
      continue;
    }
    let answer: { uid?: unknown; status?: unknown; url?: unknown; version?: unknown; message?: unknown } = {};
    let json = false;
    try {
      const parsed: unknown = text ? JSON.parse(text) : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        answer = parsed as typeof answer;
        json = true;
      } else answer = { message: text.slice(0, 200) };
    } catch {
      answer = { message: text.slice(0, 200) };
    }
    // Grafana answers a stored dashboard with {status: "success", uid, url, version}; any other 2xx
    // (an HTML login page behind an SSO proxy, a wrong base URL served by something else) stored nothing
    const stored = res.ok && json && (answer.status === 'success' || answer.uid === board.uid);
    if (res.ok && !stored) {
      const what = json ? 'JSON without status "success" or the dashboard uid' : `a non-JSON body (${res.headers.get('content-type') ?? 'no content-type'})`;
      results.push({ uid: board.uid, title: board.title, ok: false, status: res.status, error: `Grafana answered ${res.status} with ${what}: is ${target.grafanaUrl} the Grafana base URL?` });
    } else if (stored) {
      results.push({
        uid: board.uid,
        title: board.title,
        ok: true,
        status: res.status,
        ...(typeof answer.url === 'string' ? { url: answer.url } : {}),
        ...(typeof answer.version === 'number' ? { version: answer.version } : {}),
      });
    } else {
      const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
      const message = location ? `redirected to ${location}` : typeof answer.message === 'string' && answer.message ? answer.message : res.statusText;
      results.push({ uid: board.uid, title: board.title, ok: false, status: res.status, error: `Grafana answered ${res.status}: ${message}` });
    }
  }
  const pushed = results.filter((r) => r.ok).length;
  return { grafanaUrl: target.grafanaUrl, reachable, pushed, failed: results.length - pushed, results };
}

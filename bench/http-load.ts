/**
 * Open-loop HTTP load generator for bench/api-load.ts, forked as its own process (so it does not
 * share an event loop or a core's time slices with the service more than the OS makes it). Not meant
 * to be run by hand. parent → {type:'run', job}; child → {type:'done', results} | {type:'error', message}.
 *
 * Each endpoint gets a fixed arrival rate: request k is due at t0 + k / rate, whatever happened to the
 * earlier ones (open loop). Latency is measured from the moment a request was DUE to the end of its
 * response body, so a stalled server or an exhausted socket pool shows up in the figures instead of
 * silently lowering the rate (no coordinated omission). Every sample is kept; percentiles are exact.
 * Paths of an endpoint are used round-robin. Keep-alive sockets, at most `maxSockets` per endpoint.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface HttpLoadJob {
  baseUrl: string;
  headers: Record<string, string>;
  /** measured seconds (after warm-up) */
  durationS: number;
  /** seconds at full rate before samples count */
  warmupS: number;
  endpoints: {
    name: string;
    paths: string[];
    ratePerS: number;
    method?: 'GET' | 'PUT' | 'POST';
    /** JSON body; `counterField` (if given) is set to "#<request number>" so that every write changes something */
    body?: Record<string, unknown>;
    counterField?: string;
    /** instead of the job's headers (another caller) */
    headers?: Record<string, string>;
  }[];
  maxSockets?: number;
  /** width of the latency time series in seconds; default 60 */
  windowS?: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface EndpointResult {
  name: string;
  /** requests due in the measured window */
  requests: number;
  ratePerS: number;
  non2xx: number;
  errors: number;
  /** due → response complete */
  latencyMs: LatencySummary;
  /** request written → response complete (the server's share; excludes waiting for a free socket) */
  serviceMs: LatencySummary;
  /** due → complete per `windowS` of the measured time (by due time): how latency moved during the run */
  windows: { fromS: number; requests: number; p50: number; p99: number; max: number }[];
}

export type HttpLoadMessage = { type: 'done'; results: EndpointResult[] } | { type: 'error'; message: string };

export function summarise(samples: number[]): LatencySummary {
  const s = Float64Array.from(samples).sort();
  const at = (q: number): number => (s.length === 0 ? NaN : round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!));
  const sum = s.reduce((a, b) => a + b, 0);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: round(s[s.length - 1] ?? NaN), mean: round(sum / Math.max(1, s.length)) };
}

const round = (x: number): number => Math.round(x * 100) / 100;

async function runEndpoint(job: HttpLoadJob, e: HttpLoadJob['endpoints'][number], t0: number): Promise<EndpointResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.maxSockets ?? 32 });
  const base = new URL(job.baseUrl);
  const measureFrom = t0 + job.warmupS * 1000;
  const end = measureFrom + job.durationS * 1000;
  const latency: number[] = [];
  const service: number[] = [];
  const windowMs = (job.windowS ?? 60) * 1000;
  const byWindow: number[][] = [];
  let non2xx = 0;
  let errors = 0;
  let measured = 0;
  let k = 0;
  const inFlight = new Set<Promise<void>>();

  const fire = (due: number, path: string): void => {
    const counts = due >= measureFrom;
    if (counts) measured++;
    const p = new Promise<void>((resolve) => {
      const body = e.body ? JSON.stringify(e.counterField ? { ...e.body, [e.counterField]: `#${k}` } : e.body) : undefined;
      const callerHeaders = e.headers ?? job.headers;
      const headers = body === undefined ? callerHeaders : { ...callerHeaders, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      const req = http.request({ host: base.hostname, port: base.port, path, method: e.method ?? 'GET', headers, agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          const done = performance.now();
          if (counts) {
            latency.push(done - due);
            (byWindow[Math.floor((due - measureFrom) / windowMs)] ??= []).push(done - due);
            service.push(done - sent);
            if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode > 299) non2xx++;
          }
          resolve();
        });
      });
      let sent = due;
      req.on('socket', () => (sent = performance.now()));
      req.on('error', () => {
        if (counts) errors++;
        resolve();
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.end(body);
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      for (;;) {
        const due = t0 + (k * 1000) / e.ratePerS;
        if (due > now || due >= end) break;
        fire(due, e.paths[k % e.paths.length]!);
        k++;
      }
      if (t0 + (k * 1000) / e.ratePerS >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  const windows = [...byWindow.entries()].filter(([, xs]) => xs && xs.length > 0).map(([i, xs]) => {
    const l = summarise(xs);
    return { fromS: (i * windowMs) / 1000, requests: xs.length, p50: l.p50, p99: l.p99, max: l.max };
  });
  return { name: e.name, requests: measured, ratePerS: Math.round(measured / job.durationS), non2xx, errors, latencyMs: summarise(latency), serviceMs: summarise(service), windows };
}

process.on('message', (m: { type: 'run'; job: HttpLoadJob }) => {
  if (m.type !== 'run') return;
  const t0 = performance.now() + 50;
  Promise.all(m.job.endpoints.map((e) => runEndpoint(m.job, e, t0))).then(
    (results) => process.send?.({ type: 'done', results } satisfies HttpLoadMessage),
    (err: unknown) => process.send?.({ type: 'error', message: (err as Error).message } satisfies HttpLoadMessage),
  );
});

/**
 * The access log (api/request-log.ts) on a bare Fastify app logging into memory: one line per
 * request with what an operator looks for, the REQUEST_LOG modes, and survey tokens masked.
 */
import { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import '../../api/access-control.ts';
import { installRequestLog, loggedUrl, type RequestLogMode } from '../../api/request-log.ts';
import { createRootLogger } from '../../platform/logger.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(mode: RequestLogMode) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  app = Fastify({ loggerInstance: createRootLogger('info', sink) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.decorateRequest('principal', null);
  installRequestLog(app, mode);
  app.get('/things/:id', async (req, reply) => reply.header('x-cache', 'hit').send({ id: (req.params as { id: string }).id }));
  app.get('/surveys/:token', async () => ({ ok: true }));
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  const requests = () => lines.filter((l) => l.msg === 'request');
  return { lines, requests };
}

describe('access log', () => {
  it('writes one line per request with method, path, route, status, time, cache outcome and address', async () => {
    const { requests } = await build('all');
    await app!.inject({ method: 'GET', url: '/things/42?x=1', remoteAddress: '10.1.2.3' });
    expect(requests()).toHaveLength(1);
    const line = requests()[0]!;
    expect(line).toMatchObject({ level: 30, method: 'GET', url: '/things/42?x=1', route: '/things/:id', statusCode: 200, cache: 'hit', ip: '10.1.2.3' });
    expect(typeof line.ms).toBe('number');
    expect(line.reqId).toBeDefined();
    await app!.inject({ method: 'GET', url: '/nowhere' });
    expect(requests().map((l) => l.statusCode)).toEqual([200, 404]);
  });

  it('REQUEST_LOG=errors logs only responses with status ≥ 400; off logs none', async () => {
    const errors = await build('errors');
    await app!.inject({ method: 'GET', url: '/things/1' });
    await app!.inject({ method: 'GET', url: '/boom' });
    await app!.inject({ method: 'GET', url: '/nowhere' });
    expect(errors.requests().map((l) => l.statusCode)).toEqual([500, 404]);
    await app!.close();
    const off = await build('off');
    await app!.inject({ method: 'GET', url: '/things/1' });
    await app!.inject({ method: 'GET', url: '/nowhere' });
    expect(off.requests()).toHaveLength(0);
  });

  it('never writes a survey token (a path parameter that is a credential)', async () => {
    const { lines, requests } = await build('all');
    const token = 'sv_Secret-Token_123';
    await app!.inject({ method: 'GET', url: `/surveys/${token}?lang=de` });
    expect(requests()[0]).toMatchObject({ url: '/surveys/[redacted]?lang=de', route: '/surveys/:token' });
    expect(JSON.stringify(lines)).not.toContain(token);
    // percent-encoded in the path
    expect(loggedUrl({ url: '/surveys/a%20b/x', params: { token: 'a b' } })).toBe('/surveys/[redacted]/x');
    expect(loggedUrl({ url: '/things/a', params: { id: 'a' } })).toBe('/things/a');
  });
});

/** The one error mapping: AppError.kind → HTTP status, body {code, message, details?}; 5xx bodies are generic. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../platform/errors.ts';
import { clientErrorCode, securityHeaders } from './hardening-policy.ts';

const STATUS: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  illegal_transition: 409,
  unavailable: 503,
  internal: 500,
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    if (err instanceof AppError) {
      const status = STATUS[err.kind];
      if (status >= 500) request.log.error({ err }, 'request failed');
      return reply.status(status).send({ code: err.kind, message: status >= 500 ? 'service unavailable' : err.message, ...(status < 500 && err.details !== undefined ? { details: err.details } : {}) });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => ({ path: `${fe.validationContext ?? ''}${v.instancePath || ''}`, message: v.message, params: v.params }));
      return reply.status(400).send({ code: 'validation', message: `invalid request: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      // framework codes (FST_…) become stable public names; never a stack or internal detail
      const details = (fe as { details?: unknown }).details;
      return reply.status(fe.statusCode).send({ code: clientErrorCode(fe.statusCode, fe.code), message: fe.message, ...(details !== undefined ? { details } : {}) });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ code: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'not_found', message: `route ${request.method} ${request.url.split('?')[0]} does not exist` }),
  );
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (malformed percent-encoding,
 * over-long path parameters) get the platform's error shape and security headers instead of
 * Fastify's own body, which echoes framework codes.
 */
export function frameworkErrorHandler(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  reply.headers(securityHeaders({ url: '', hstsMaxAgeS: 0 }));
  void reply.status(status).send({ code: clientErrorCode(status, err.code), message: status === 414 ? 'a path parameter is too long' : 'the request URL is not valid (malformed percent-encoding)' });
}

/**
 * Attachment routes. Uploads are the raw request body with the file's own Content-Type (no
 * multipart): `POST /work-orders/:id/attachments?fileName=…` and `POST /assets/:id/documents?fileName=…`.
 * They live in an encapsulated plugin whose content-type parsers accept exactly ATTACHMENT_TYPES as a
 * Buffer (body limit ATTACHMENT_MAX_BYTES), so the JSON routes elsewhere are unaffected; its error
 * handler answers 413 (too large) and 415 (type not accepted) with a clear body and passes every
 * other error on to the app's handler.
 */
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import type { Readable } from 'node:stream';
import { PayloadTooLarge, UnsupportedType, type OwnerType } from '../../maintenance/attachments.ts';
import { contentDisposition } from '../../maintenance/file-types.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { ErrorBody, errorResponses, IdParams } from '../schemas.ts';
import { AttachmentSchema, UploadQuery } from '../work-execution-schemas.ts';

const tags = ['work execution'];
const uploadErrors = { ...errorResponses, 413: ErrorBody, 415: ErrorBody };
const Binary = Type.Unsafe<Buffer | Readable>({ type: 'string', format: 'binary', description: 'the file, with its stored content type' });

export function attachmentRoutes(app: ApiApp, { attachments }: ApiDeps): void {
  app.register(async (scope: ApiApp) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser([...attachments.types], { parseAs: 'buffer', bodyLimit: attachments.maxBytes }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof PayloadTooLarge || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply.status(413).send({ code: 'payload_too_large', message: `the file is larger than the limit of ${attachments.maxBytes} bytes (ATTACHMENT_MAX_BYTES)`, details: { limit: attachments.maxBytes } });
      }
      if (err instanceof UnsupportedType) return reply.status(415).send({ code: 'unsupported_media_type', message: err.message, details: err.details });
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        const declared = req.headers['content-type'] ?? '(none)';
        return reply.status(415).send({ code: 'unsupported_media_type', message: `content type ${declared} is not accepted; allowed: ${attachments.types.join(', ')}`, details: { declared, allowed: attachments.types } });
      }
      throw err;
    });

    const upload = (ownerType: OwnerType, path: string, summary: string) =>
      scope.post(
        path,
        {
          schema: {
            tags,
            summary,
            description: `Send the file as the raw body with its content type (allowed: ${attachments.types.join(', ')}; at most ${attachments.maxBytes} bytes). The type must match the file's signature (magic bytes).`,
            params: IdParams,
            querystring: UploadQuery,
            response: { 201: AttachmentSchema, ...uploadErrors },
          },
        },
        async (req, reply) => {
          const contentType = (req.headers['content-type'] ?? '').toLowerCase();
          const kind = req.query.kind ?? (contentType.startsWith('image/') ? 'photo' : 'document');
          const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          const a = await attachments.upload({ ownerType, ownerId: req.params.id, kind, fileName: req.query.fileName, contentType, bytes, description: req.query.description, uploadedBy: req.query.uploadedBy });
          return reply.status(201).send(a);
        },
      );

    upload('work_order', '/work-orders/:id/attachments', 'Attach a photo or document to a work order (raw body)');
    upload('asset', '/assets/:id/documents', 'Attach a document or photo to an asset (raw body)');
    upload('knowledge_article', '/knowledge-articles/:id/attachments', 'Attach a document or photo to a knowledge article (raw body)');
  });

  const list = (ownerType: OwnerType, path: string, summary: string) =>
    app.get(path, { schema: { tags, summary, params: IdParams, response: { 200: Type.Array(AttachmentSchema), ...errorResponses } } }, async (req) => attachments.list(ownerType, req.params.id));
  list('work_order', '/work-orders/:id/attachments', 'Attachments of a work order (photos, documents, signature images)');
  list('asset', '/assets/:id/documents', 'Documents and photos of an asset');
  list('knowledge_article', '/knowledge-articles/:id/attachments', 'Attachments of a knowledge article');

  app.get('/attachments/:id', { schema: { tags, summary: 'Attachment metadata', params: IdParams, response: { 200: AttachmentSchema, ...errorResponses } } }, async (req) => attachments.get(req.params.id));

  app.get(
    '/attachments/:id/content',
    { schema: { tags, summary: 'Download an attachment (stored content type, verified size and sha256)', params: IdParams, response: { 200: Binary, ...errorResponses } } },
    async (req, reply) => {
      const { attachment, body } = await attachments.content(req.params.id);
      return reply
        .header('content-type', attachment.contentType)
        .header('content-length', attachment.size)
        .header('content-disposition', contentDisposition(attachment.fileName))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        .send(body);
    },
  );

  app.delete(
    '/attachments/:id',
    { schema: { tags, summary: 'Delete an attachment (row and file); signature images cannot be deleted (409)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await attachments.remove(req.params.id);
      return reply.status(204).send(null);
    },
  );
}

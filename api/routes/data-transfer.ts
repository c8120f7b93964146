/**
 * CSV import/export of assets, parts and engineers. `GET /export/:entity` downloads the entity as CSV;
 * `POST /import/:entity` takes the CSV as the raw request body (Content-Type text/csv, UTF-8, at most
 * IMPORT_MAX_BYTES). The import route lives in an encapsulated plugin whose only content-type parser
 * is text/csv, so the JSON routes elsewhere are unaffected; its error handler answers 413 (too large)
 * and 415 (not text/csv, or not UTF-8) and passes every other error on to the app's handler.
 */
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import { contentDisposition } from '../../maintenance/file-types.ts';
import { ENTITIES, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, type Entity } from '../../maintenance/data-transfer.ts';
import { AppError } from '../../platform/errors.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { ErrorBody, errorResponses, Uuid } from '../schemas.ts';

const tags = ['data transfer'];
const EntityParams = Type.Object({ entity: Type.Union(ENTITIES.map((e) => Type.Literal(e)), { description: 'assets, parts or engineers' }) });

const RowErrorSchema = Type.Object({
  row: Type.Integer({ description: 'line of the file (1 = the header; a record with line breaks inside quotes counts from its first line)' }),
  column: Type.Union([Type.String(), Type.Null()], { description: 'null for errors about the whole record' }),
  value: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
});

export const ImportReportSchema = Type.Object({
  entity: Type.String(),
  mode: Type.String(),
  dryRun: Type.Boolean(),
  rows: Type.Integer({ description: 'data rows in the file' }),
  created: Type.Integer({ description: 'rows that create a record (dry run: would create)' }),
  updated: Type.Integer({ description: 'rows that change an existing record (upsert)' }),
  unchanged: Type.Integer({ description: 'rows equal to the existing record (upsert)' }),
  imported: Type.Integer({ description: 'rows written (0 for a dry run)' }),
  errorCount: Type.Integer(),
  errors: Type.Array(RowErrorSchema, { description: 'at most 1000; errorCount has the total' }),
});

const CSV_TYPES = ['text/csv'];
const CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

function decode(contentType: string | undefined, body: Buffer): string {
  const charset = /;\s*charset="?([^";\s]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset && !CHARSETS.has(charset)) throw new AppError('validation', `charset ${charset} is not supported; send UTF-8`, { charset });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new AppError('validation', 'the file is not valid UTF-8 (save it as "CSV UTF-8")');
  }
}

export function dataTransferRoutes(app: ApiApp, deps: ApiDeps): void {
  const { dataTransfer } = deps;

  app.get(
    '/export/:entity',
    {
      schema: {
        tags,
        summary: 'Download assets, parts or engineers as CSV (the columns POST /import/{entity} reads; re-importable with mode=upsert)',
        description: 'UTF-8 with a byte-order mark, CRLF line ends; cells a spreadsheet would run as a formula (= + - @) are prefixed with \'.',
        params: EntityParams,
        querystring: Type.Object({ siteId: Type.Optional(Uuid) }),
        response: { 200: Type.String({ description: 'text/csv' }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const out = await dataTransfer.exportCsv(req.params.entity as Entity, { siteId: req.query.siteId });
      return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', contentDisposition(out.fileName)).header('x-row-count', String(out.rows)).send(out.csv);
    },
  );

  app.register(async (scope: ApiApp) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(CSV_TYPES, { parseAs: 'buffer', bodyLimit: IMPORT_MAX_BYTES }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return reply.status(413).send({ code: 'payload_too_large', message: `the file is larger than the limit of ${IMPORT_MAX_BYTES} bytes; split it`, details: { limit: IMPORT_MAX_BYTES } });
      }
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        const declared = req.headers['content-type'] ?? '(none)';
        return reply.status(415).send({ code: 'unsupported_media_type', message: `content type ${declared} is not accepted; send the CSV as the body with Content-Type: text/csv`, details: { declared, allowed: CSV_TYPES } });
      }
      throw err;
    });

    scope.post(
      '/import/:entity',
      {
        schema: {
          tags,
          summary: 'Import assets, parts or engineers from CSV: every row is checked first; any error → nothing is written',
          description:
            'Body: the CSV (Content-Type: text/csv, UTF-8, first line = column names; columns as GET /export/{entity} writes them). ' +
            'mode=create (default): an existing code is a row error; mode=upsert: rows with an existing code update it (columns missing from the header stay as they are). ' +
            'Every row is validated (types, required cells, enums, references such as siteCode/areaCode/parentCode — parentCode may name another row of the file —, duplicates in the file, existing codes); ' +
            'any error → 400 with the full report {row, column, value, message} and nothing written (dryRun=true: 200 with the report, nothing written). ' +
            `Otherwise all rows are written in one transaction. At most ${IMPORT_MAX_BYTES} bytes and ${IMPORT_MAX_ROWS} rows.`,
          params: EntityParams,
          querystring: Type.Object({
            dryRun: Type.Boolean({ default: false, description: 'validate and report only' }),
            mode: Type.Union([Type.Literal('create'), Type.Literal('upsert')], { default: 'create' }),
          }),
          response: { 200: ImportReportSchema, ...errorResponses, 413: ErrorBody, 415: ErrorBody },
        },
      },
      async (req) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const entity = req.params.entity as Entity;
        const result = await dataTransfer.importCsv(entity, decode(req.headers['content-type'], body), { mode: req.query.mode, dryRun: req.query.dryRun, actor: req.principal?.name });
        if (entity === 'assets' && result.imported > 0) deps.onAssetsChanged();
        return result;
      },
    );
  });
}

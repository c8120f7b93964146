import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { ErrorBody, errorResponses, Page, Paging, Uuid } from '../schemas.ts';
import { CsatSummarySchema, PublicSurveySchema, SURVEY_STATUS, SurveySchema, surveyView, TokenParams } from './customer-schemas.ts';

const tags = ['surveys'];
/** 410 Gone: the link expired (the error model has no such kind, so the route answers it directly). */
const gone = { 410: ErrorBody };

export function surveyRoutes(app: ApiApp, { surveys }: ApiDeps): void {
  app.get(
    '/surveys',
    {
      schema: {
        tags,
        summary: 'CSAT surveys (internal, newest first) with the average score and response rate of the filter',
        querystring: Type.Object({ status: Type.Optional(SURVEY_STATUS), customerId: Type.Optional(Uuid), workOrderId: Type.Optional(Uuid), ...Paging }),
        response: { 200: Type.Intersect([Page(SurveySchema), Type.Object({ summary: CsatSummarySchema })]), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total, summary } = await surveys.list(req.query);
      return { items: items.map(surveyView), total, limit: req.query.limit, offset: req.query.offset, summary };
    },
  );

  app.post(
    '/surveys/sweep',
    {
      schema: {
        tags: ['ops'],
        summary: 'Expire overdue surveys, retry missing low-score escalations, send surveys a failed hook missed (idempotent)',
        response: { 200: Type.Object({ expired: Type.Integer(), escalated: Type.Integer(), sent: Type.Integer() }), ...errorResponses },
      },
    },
    async () => surveys.sweep(),
  );

  app.get(
    '/surveys/:token',
    {
      schema: {
        tags,
        summary: 'Public: the survey behind a link (404 unknown, 410 expired)',
        params: TokenParams,
        response: { 200: PublicSurveySchema, ...errorResponses, ...gone },
      },
    },
    async (req, reply) => {
      const r = await surveys.view(req.params.token);
      if (r.expired) return reply.status(410).send({ code: 'expired', message: r.message });
      return r.survey;
    },
  );

  app.post(
    '/surveys/:token',
    {
      schema: {
        tags,
        summary: 'Public: answer the survey once (409 already answered, 410 expired)',
        params: TokenParams,
        body: Type.Object({ score: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Type.String({ maxLength: 5000 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('answered'), score: Type.Integer(), followUp: Type.Boolean({ description: 'a low score: someone will contact you' }) }), ...errorResponses, ...gone },
      },
    },
    async (req, reply) => {
      const r = await surveys.answer(req.params.token, req.body);
      if (r.expired) return reply.status(410).send({ code: 'expired', message: r.message });
      return { status: r.status, score: r.score, followUp: r.followUp };
    },
  );
}

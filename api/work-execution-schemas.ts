/** TypeBox schemas of the work-execution routes: attachments, work logs, fault codes, knowledge base, signatures. */
import { Type } from 'typebox';
import { Nullable, TimestampOut, Uuid } from './schemas.ts';

export const AttachmentSchema = Type.Object({
  id: Uuid,
  ownerType: Type.Union([Type.Literal('asset'), Type.Literal('work_order'), Type.Literal('knowledge_article')]),
  ownerId: Uuid,
  kind: Type.Union([Type.Literal('document'), Type.Literal('photo'), Type.Literal('signature')]),
  fileName: Type.String(),
  contentType: Type.String(),
  size: Type.Integer({ description: 'bytes' }),
  sha256: Type.String({ description: 'hex sha256 of the content' }),
  description: Nullable(Type.String()),
  uploadedBy: Nullable(Type.String()),
  createdAt: TimestampOut,
});

export const UploadQuery = Type.Object(
  {
    fileName: Type.String({ minLength: 1, maxLength: 255, description: 'original file name; stored sanitised (last path segment, no control or reserved characters)' }),
    kind: Type.Optional(Type.Union([Type.Literal('photo'), Type.Literal('document')], { description: 'default: photo for images, document otherwise' })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    uploadedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const WORK_LOG_KIND = Type.Union([Type.Literal('note'), Type.Literal('labour'), Type.Literal('travel')]);

export const WorkLogBody = Type.Object(
  {
    kind: WORK_LOG_KIND,
    engineerId: Type.Optional(Uuid),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    startedAt: Type.Optional(Type.String({ format: 'date-time', description: 'labour: start of the interval' })),
    endedAt: Type.Optional(Type.String({ format: 'date-time', description: 'labour: end of the interval (after startedAt)' })),
    minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'labour (when no interval) or travel time' })),
    distanceKm: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000, description: 'travel' })),
    cost: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000_000, description: 'travel: cost as entered (≤ 2 decimals); labour cost is computed' })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const WorkLogSchema = Type.Object({
  id: Uuid,
  workOrderId: Uuid,
  kind: WORK_LOG_KIND,
  engineerId: Nullable(Uuid),
  engineerCode: Nullable(Type.String()),
  engineerName: Nullable(Type.String()),
  note: Nullable(Type.String()),
  startedAt: Nullable(TimestampOut),
  endedAt: Nullable(TimestampOut),
  minutes: Type.Integer(),
  distanceKm: Nullable(Type.Number()),
  cost: Type.Number(),
  actor: Nullable(Type.String()),
  createdAt: TimestampOut,
});

export const WorkLogTotalsSchema = Type.Object({
  labourMinutes: Type.Integer(),
  labourCost: Type.Number(),
  travelMinutes: Type.Integer(),
  travelKm: Type.Number(),
  travelCost: Type.Number(),
  totalCost: Type.Number({ description: 'labour + travel' }),
});

export const FaultCodeSchema = Type.Object({ code: Type.String(), name: Type.String(), category: Type.String(), description: Nullable(Type.String()), createdAt: TimestampOut });

const ArticleFields = {
  title: Type.String({ minLength: 1, maxLength: 300 }),
  symptoms: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
  solution: Type.String({ minLength: 1, maxLength: 50_000 }),
  faultCode: Type.Optional(Nullable(Type.String({ description: 'a code of the fault-code library' }))),
  assetType: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
};

export const ArticleBody = Type.Object(ArticleFields, { additionalProperties: false });
export const ArticlePatch = Type.Partial(Type.Object(ArticleFields), { additionalProperties: false });

export const ArticleSchema = Type.Object({
  id: Uuid,
  title: Type.String(),
  symptoms: Nullable(Type.String()),
  solution: Type.String(),
  faultCode: Nullable(Type.String()),
  assetType: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  usedCount: Type.Integer(),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
  score: Type.Optional(Type.Number({ description: 'text-search relevance (only with q)' })),
});

export const SuggestionsSchema = Type.Object({
  query: Type.Object({
    faultCode: Nullable(Type.String()),
    alarmFaultCodes: Type.Array(Type.String(), { description: 'codes of linked alarms found in the fault-code library' }),
    assetType: Type.String(),
    text: Type.String(),
  }),
  items: Type.Array(
    Type.Object({
      article: ArticleSchema,
      score: Type.Number(),
      breakdown: Type.Object({
        faultCode: Type.Number({ description: '+50 order fault code, +40 linked alarm code' }),
        assetType: Type.Number({ description: '+30 same asset type' }),
        text: Type.Number({ description: '+5 per shared word, at most 25' }),
        matchedWords: Type.Array(Type.String()),
        usedCount: Type.Integer({ description: 'tie-breaker' }),
      }),
    }),
  ),
});

export const SignatureBody = Type.Object(
  {
    signerName: Type.String({ minLength: 1, maxLength: 200 }),
    signerRole: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    image: Type.String({ minLength: 4, maxLength: 1_400_000, description: 'signature image, base64 (a data: URL prefix is accepted)' }),
    imageContentType: Type.Union([Type.Literal('image/png'), Type.Literal('image/svg+xml')]),
  },
  { additionalProperties: false },
);

export const SignatureSchema = Type.Object({
  workOrderId: Uuid,
  signerName: Type.String(),
  signerRole: Nullable(Type.String()),
  attachmentId: Uuid,
  contentHash: Type.String({ description: 'sha256 of the canonical summary that was signed' }),
  summary: Type.Unknown({ description: 'what was signed: order, close-out, checklist, labour/travel totals, parts' }),
  signedAt: TimestampOut,
  valid: Type.Boolean({ description: 'true while the order still matches what was signed' }),
  currentHash: Nullable(Type.String({ description: 'hash of the current summary, compared with contentHash' })),
});

/**
 * Fault-code library (E01 power, E02 sensor, … seeded by the migration, extendable) and the
 * knowledge base: known solutions linked to a fault code and/or an asset type, searched by text and
 * suggested on work orders (ranking in kb-ranking.ts, explainable).
 *
 * "Used" is counted once per article and order without a table of its own: marking an article as
 * used writes a note work log `[kb:<articleId>] …` on the order (so the order's log shows which
 * article helped) and increments usedCount only when that note is not there yet; the order row is
 * locked for the check, so concurrent calls count once.
 */
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, isUniqueViolation, notFound } from '../platform/errors.ts';
import { rankArticles, tokenize, type Ranked, type RankQuery } from './kb-ranking.ts';

/** Fault codes: one capital letter and 2–3 digits (E01, E02, M101). */
export const FAULT_CODE_PATTERN = '^[A-Z][0-9]{2,3}$';

export interface ArticleInput {
  title: string;
  symptoms?: string | null | undefined;
  solution: string;
  faultCode?: string | null | undefined;
  assetType?: string | null | undefined;
  tags?: string[] | undefined;
}

export interface SearchInput {
  q?: string | undefined;
  faultCode?: string | undefined;
  assetType?: string | undefined;
  limit: number;
  offset: number;
}

const faultCodeSelect = { code: true, name: true, category: true, description: true, createdAt: true } satisfies Prisma.FaultCodeSelect;

export const articleSelect = {
  id: true,
  title: true,
  symptoms: true,
  solution: true,
  faultCode: true,
  assetType: true,
  tags: true,
  usedCount: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.KnowledgeArticleSelect;

export type ArticleView = Prisma.KnowledgeArticleGetPayload<{ select: typeof articleSelect }>;

/** Most candidate rows loaded for text ranking (the knowledge base is hundreds to a few thousand articles). */
const CANDIDATES = 500;
const MAX_QUERY_WORDS = 20;

/** What suggestions were ranked against (shown with them). */
export interface SuggestionQuery extends RankQuery {
  faultCode: string | null;
  alarmFaultCodes: string[];
  assetType: string;
  text: string;
}

const usedMarker = (articleId: string): string => `[kb:${articleId}]`;

function textWhere(text: string | null | undefined): Prisma.KnowledgeArticleWhereInput[] {
  const words = [...tokenize(text)].slice(0, MAX_QUERY_WORDS);
  return words.flatMap((w) => [
    { title: { contains: w, mode: 'insensitive' as const } },
    { symptoms: { contains: w, mode: 'insensitive' as const } },
    { tags: { has: w } },
  ]);
}

export function createKnowledgeService(deps: { prisma: Db }) {
  const { prisma } = deps;

  async function requireFaultCode(code: string | null | undefined): Promise<void> {
    if (!code) return;
    const fc = await prisma.faultCode.findUnique({ where: { code }, select: { code: true } });
    if (!fc) throw new AppError('validation', `fault code ${code} is not in the fault-code library (GET /fault-codes)`, { faultCode: code });
  }

  const normTags = (tags: string[] | undefined) => (tags ? [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))] : undefined);

  return {
    listFaultCodes: () => prisma.faultCode.findMany({ select: faultCodeSelect, orderBy: { code: 'asc' } }),

    async createFaultCode(input: { code: string; name: string; category: string; description?: string | undefined }) {
      if (!new RegExp(FAULT_CODE_PATTERN).test(input.code)) throw new AppError('validation', `fault code ${input.code} must look like E01 (${FAULT_CODE_PATTERN})`);
      try {
        return await prisma.faultCode.create({ data: { ...input, description: input.description ?? null }, select: faultCodeSelect });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`fault code ${input.code} already exists`, { code: input.code });
        throw err;
      }
    },

    async createArticle(input: ArticleInput): Promise<ArticleView> {
      await requireFaultCode(input.faultCode);
      return prisma.knowledgeArticle.create({
        data: {
          title: input.title,
          symptoms: input.symptoms ?? null,
          solution: input.solution,
          faultCode: input.faultCode ?? null,
          assetType: input.assetType ?? null,
          tags: normTags(input.tags) ?? [],
        },
        select: articleSelect,
      });
    },

    async getArticle(id: string): Promise<ArticleView> {
      const a = await prisma.knowledgeArticle.findUnique({ where: { id }, select: articleSelect });
      if (!a) throw notFound('KnowledgeArticle', id);
      return a;
    },

    async updateArticle(id: string, input: Partial<ArticleInput>): Promise<ArticleView> {
      await requireFaultCode(input.faultCode);
      const found = await prisma.knowledgeArticle.findUnique({ where: { id }, select: { id: true } });
      if (!found) throw notFound('KnowledgeArticle', id);
      const tags = normTags(input.tags);
      return prisma.knowledgeArticle.update({
        where: { id },
        data: {
          ...(input.title !== undefined ? { title: input.title } : {}),
          ...(input.symptoms !== undefined ? { symptoms: input.symptoms } : {}),
          ...(input.solution !== undefined ? { solution: input.solution } : {}),
          ...(input.faultCode !== undefined ? { faultCode: input.faultCode } : {}),
          ...(input.assetType !== undefined ? { assetType: input.assetType } : {}),
          ...(tags ? { tags } : {}),
        },
        select: articleSelect,
      });
    },

    async deleteArticle(id: string): Promise<void> {
      // attachments have no foreign key to the article: refuse rather than orphan the files
      const files = await prisma.attachment.count({ where: { ownerType: 'knowledge_article', ownerId: id } });
      if (files > 0) throw conflict(`knowledge article has ${files} attachment(s); delete them first`, { id, attachments: files });
      const gone = await prisma.knowledgeArticle.deleteMany({ where: { id } });
      if (gone.count === 0) throw notFound('KnowledgeArticle', id);
    },

    /**
     * Without `q`: filtered by fault code / asset type, most used first. With `q`: articles sharing a
     * word with it, ranked (kb-ranking.ts) among the first 500 candidates; total counts those ranked.
     */
    async search(s: SearchInput): Promise<{ items: (ArticleView & { score?: number })[]; total: number }> {
      const where: Prisma.KnowledgeArticleWhereInput = {
        ...(s.faultCode ? { faultCode: s.faultCode } : {}),
        ...(s.assetType ? { assetType: { equals: s.assetType, mode: 'insensitive' } } : {}),
      };
      if (!s.q?.trim()) {
        const [items, total] = await Promise.all([
          prisma.knowledgeArticle.findMany({ where, select: articleSelect, orderBy: [{ usedCount: 'desc' }, { title: 'asc' }, { id: 'asc' }], take: s.limit, skip: s.offset }),
          prisma.knowledgeArticle.count({ where }),
        ]);
        return { items, total };
      }
      const or = textWhere(s.q);
      if (or.length === 0) return { items: [], total: 0 };
      const candidates = await prisma.knowledgeArticle.findMany({ where: { ...where, OR: or }, select: articleSelect, take: CANDIDATES });
      const ranked = rankArticles({ text: s.q }, candidates);
      return { items: ranked.slice(s.offset, s.offset + s.limit).map((r) => ({ ...r.article, score: r.score })), total: ranked.length };
    },

    /** Articles for a work order, best first, with the score breakdown. */
    async suggestions(workOrderId: string, limit: number): Promise<{ query: SuggestionQuery; items: Ranked<ArticleView>[] }> {
      const wo = await prisma.workOrder.findUnique({
        where: { id: workOrderId },
        select: { title: true, description: true, faultCode: true, asset: { select: { type: true } }, alarms: { select: { code: true } } },
      });
      if (!wo) throw notFound('WorkOrder', workOrderId);
      const alarmCodes = [...new Set(wo.alarms.map((a) => a.code))];
      const inLibrary = alarmCodes.length ? await prisma.faultCode.findMany({ where: { code: { in: alarmCodes } }, select: { code: true } }) : [];
      const query: SuggestionQuery = {
        faultCode: wo.faultCode,
        alarmFaultCodes: inLibrary.map((f) => f.code).sort(),
        assetType: wo.asset.type,
        text: [wo.title, wo.description ?? ''].join(' '),
      };
      const codes = [...new Set([...(wo.faultCode ? [wo.faultCode] : []), ...query.alarmFaultCodes])];
      const or: Prisma.KnowledgeArticleWhereInput[] = [
        ...(codes.length ? [{ faultCode: { in: codes } }] : []),
        { assetType: { equals: wo.asset.type, mode: 'insensitive' } },
        ...textWhere(query.text),
      ];
      const candidates = await prisma.knowledgeArticle.findMany({ where: { OR: or }, select: articleSelect, take: CANDIDATES, orderBy: { usedCount: 'desc' } });
      return { query, items: rankArticles(query, candidates).slice(0, limit) };
    },

    /** Marks an article as used on an order; counts once per (article, order). */
    async markUsed(articleId: string, input: { workOrderId: string; actor?: string | undefined }): Promise<{ article: ArticleView; counted: boolean }> {
      return prisma.$transaction(async (tx) => {
        const locked = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM work_orders WHERE id = ${input.workOrderId} FOR UPDATE`;
        const wo = locked[0];
        if (!wo) throw notFound('WorkOrder', input.workOrderId);
        if (wo.status === 'closed' || wo.status === 'cancelled') throw new AppError('illegal_transition', `work order is ${wo.status}; it can no longer change`, { status: wo.status });
        const article = await tx.knowledgeArticle.findUnique({ where: { id: articleId }, select: { id: true, title: true } });
        if (!article) throw notFound('KnowledgeArticle', articleId);
        const marker = usedMarker(articleId);
        const seen = await tx.workLog.findFirst({ where: { workOrderId: input.workOrderId, kind: 'note', note: { startsWith: marker } }, select: { id: true } });
        if (seen) return { article: await tx.knowledgeArticle.findUniqueOrThrow({ where: { id: articleId }, select: articleSelect }), counted: false };
        await tx.workLog.create({ data: { workOrderId: input.workOrderId, kind: 'note', note: `${marker} used knowledge article: ${article.title}`.slice(0, 2000), actor: input.actor ?? null } });
        const updated = await tx.knowledgeArticle.update({ where: { id: articleId }, data: { usedCount: { increment: 1 } }, select: articleSelect });
        return { article: updated, counted: true };
      });
    },
  };
}

export type KnowledgeService = ReturnType<typeof createKnowledgeService>;

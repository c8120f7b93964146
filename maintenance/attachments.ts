/**
 * Attachments: documents and photos of assets and work orders, signature images. The bytes go to a
 * file store (disk today, see file-store.ts), the metadata (owner, kind, name, type, size, sha256,
 * storage key) to the `attachments` table.
 *
 * Validated before anything is stored: owner exists, not empty, at most `maxBytes`, declared type
 * allowed AND equal to what the bytes are (file-types.ts). Nothing half-stored: the file is written
 * first and removed again when the metadata row (or the caller's transaction around it) fails; on
 * delete the row goes first, then the file (a leftover file is harmless, a row without a file is not).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, notFound } from '../platform/errors.ts';
import { createDiskFileStore, type FileStore } from './file-store.ts';
import { checkFileType, sanitizeFileName } from './file-types.ts';

export type OwnerType = 'asset' | 'work_order' | 'knowledge_article';
export type AttachmentKind = 'document' | 'photo' | 'signature';

export interface UploadInput {
  ownerType: OwnerType;
  ownerId: string;
  kind: AttachmentKind;
  fileName: string;
  contentType: string;
  bytes: Uint8Array;
  description?: string | undefined;
  uploadedBy?: string | undefined;
}

export const attachmentSelect = {
  id: true,
  ownerType: true,
  ownerId: true,
  kind: true,
  fileName: true,
  contentType: true,
  size: true,
  sha256: true,
  description: true,
  uploadedBy: true,
  createdAt: true,
} satisfies Prisma.AttachmentSelect;

export type AttachmentView = Prisma.AttachmentGetPayload<{ select: typeof attachmentSelect }>;

/** Files up to this size are read whole and their sha256 verified before sending; larger ones are streamed (size checked). */
const VERIFY_LIMIT = 16 * 1024 * 1024;

const OWNER_NAME: Record<OwnerType, string> = { asset: 'Asset', work_order: 'WorkOrder', knowledge_article: 'KnowledgeArticle' };

export function createAttachmentService(deps: { prisma: Db; clock: Clock; dir: string; maxBytes: number; types: readonly string[]; store?: FileStore }) {
  const { prisma, clock, maxBytes, types } = deps;
  const store = deps.store ?? createDiskFileStore(deps.dir);

  async function ownerExists(db: DbTx, ownerType: OwnerType, ownerId: string): Promise<boolean> {
    switch (ownerType) {
      case 'asset':
        return (await db.asset.findUnique({ where: { id: ownerId }, select: { id: true } })) !== null;
      case 'work_order':
        return (await db.workOrder.findUnique({ where: { id: ownerId }, select: { id: true } })) !== null;
      case 'knowledge_article':
        return (await db.knowledgeArticle.findUnique({ where: { id: ownerId }, select: { id: true } })) !== null;
    }
  }

  /** Size and type checks; returns the content type to store. Throws 400/413/415-style AppErrors. */
  function validate(input: UploadInput): string {
    if (input.bytes.length === 0) throw new AppError('validation', 'the file is empty (send the bytes as the request body)');
    if (input.bytes.length > maxBytes) throw new PayloadTooLarge(input.bytes.length, maxBytes);
    const check = checkFileType(input.contentType, input.bytes, types);
    if (!check.ok) throw check.status === 415 ? new UnsupportedType(check.message, check.details) : new AppError('validation', check.message, check.details);
    return check.contentType;
  }

  /**
   * Validates and stores the bytes, then runs `record` with a function that inserts the metadata
   * row through the given client (so callers can add it to their own transaction). When `record`
   * throws, the stored file is removed and the error re-thrown.
   */
  async function storeAndRecord<T>(input: UploadInput, record: (insert: (db: DbTx) => Promise<AttachmentView>) => Promise<T>): Promise<T> {
    const contentType = validate(input);
    const sha256 = createHash('sha256').update(input.bytes).digest('hex');
    const now = clock.now();
    const storageKey = await store.put(input.bytes, now);
    const insert = (db: DbTx) =>
      db.attachment.create({
        data: {
          ownerType: input.ownerType,
          ownerId: input.ownerId,
          kind: input.kind,
          fileName: sanitizeFileName(input.fileName),
          contentType,
          size: input.bytes.length,
          sha256,
          storageKey,
          description: input.description ?? null,
          uploadedBy: input.uploadedBy ?? null,
          createdAt: now,
        },
        select: attachmentSelect,
      });
    try {
      return await record(insert);
    } catch (err) {
      await store.remove(storageKey).catch(() => undefined);
      throw err;
    }
  }

  async function meta(id: string) {
    const a = await prisma.attachment.findUnique({ where: { id }, select: { ...attachmentSelect, storageKey: true } });
    if (!a) throw notFound('Attachment', id);
    return a;
  }

  return {
    maxBytes,
    types,
    storeAndRecord,

    async upload(input: UploadInput): Promise<AttachmentView> {
      if (!(await ownerExists(prisma, input.ownerType, input.ownerId))) throw notFound(OWNER_NAME[input.ownerType], input.ownerId);
      return storeAndRecord(input, (insert) => insert(prisma));
    },

    async list(ownerType: OwnerType, ownerId: string): Promise<AttachmentView[]> {
      if (!(await ownerExists(prisma, ownerType, ownerId))) throw notFound(OWNER_NAME[ownerType], ownerId);
      return prisma.attachment.findMany({ where: { ownerType, ownerId }, select: attachmentSelect, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    },

    async get(id: string): Promise<AttachmentView> {
      const { storageKey: _key, ...view } = await meta(id);
      return view;
    },

    /** Metadata plus the bytes (verified against the stored size, and sha256 for files up to 16 MiB). */
    async content(id: string): Promise<{ attachment: AttachmentView; body: Buffer | Readable }> {
      const { storageKey, ...attachment } = await meta(id);
      const size = await store.size(storageKey);
      if (size === undefined) throw new AppError('internal', `attachment ${id}: stored file ${storageKey} is missing`);
      if (size !== attachment.size) throw new AppError('internal', `attachment ${id}: stored file has ${size} bytes, expected ${attachment.size}`);
      if (size > VERIFY_LIMIT) return { attachment, body: store.stream(storageKey) };
      const body = await store.read(storageKey);
      const sha = createHash('sha256').update(body).digest('hex');
      if (sha !== attachment.sha256) throw new AppError('internal', `attachment ${id}: stored file does not match its sha256`);
      return { attachment, body };
    },

    /** Removes the row, then the file. Signature images are part of a signed record and stay. */
    async remove(id: string): Promise<void> {
      const { storageKey, kind } = await meta(id);
      if (kind === 'signature') throw conflict('a signature image is part of the signed record and cannot be deleted', { id });
      const gone = await prisma.attachment.deleteMany({ where: { id } });
      if (gone.count === 0) throw notFound('Attachment', id);
      await store.remove(storageKey);
    },
  };
}

export type AttachmentService = ReturnType<typeof createAttachmentService>;

/** Upload larger than the limit (HTTP 413; the routes map it). */
export class PayloadTooLarge extends AppError {
  constructor(size: number, limit: number) {
    super('validation', `the file has ${size} bytes; the limit is ${limit} bytes (ATTACHMENT_MAX_BYTES)`, { size, limit });
  }
}

/** Content type not in ATTACHMENT_TYPES (HTTP 415; the routes map it). */
export class UnsupportedType extends AppError {
  constructor(message: string, details: unknown) {
    super('validation', message, details);
  }
}

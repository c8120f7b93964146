/** One error model for the whole platform. Routes never catch: api/error-handler.ts maps `kind` to HTTP. */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'illegal_transition'
  | 'unavailable'
  | 'internal';

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly details: unknown;

  constructor(kind: ErrorKind, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.details = details;
  }
}

export const notFound = (what: string, id: string): AppError =>
  new AppError('not_found', `${what} ${id} does not exist`, { [what.toLowerCase()]: id });

export const conflict = (message: string, details?: unknown): AppError => new AppError('conflict', message, details);

export const invalid = (message: string, details?: unknown): AppError => new AppError('validation', message, details);

/** Prisma error codes we translate: unique violation and record-not-found. */
export function prismaCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown): boolean => prismaCode(err) === 'P2002';
export const isRecordNotFound = (err: unknown): boolean => prismaCode(err) === 'P2025';
export const isForeignKeyViolation = (err: unknown): boolean => prismaCode(err) === 'P2003';

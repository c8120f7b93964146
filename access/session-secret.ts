/** The session-signing key: SESSION_SECRET, or one generated at first start and kept in DATA_DIR (mode 0600). */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../platform/errors.ts';

export function resolveSessionSecret(configured: string | undefined, dataDir: string): string {
  if (configured !== undefined) {
    if (configured.length < 32) throw new AppError('validation', 'SESSION_SECRET must have at least 32 characters');
    return configured;
  }
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/** Writes a generated first-start admin password where only the service user can read it. */
export function writeAdminPassword(dataDir: string, password: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'admin-password');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
}

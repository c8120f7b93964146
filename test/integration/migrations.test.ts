/** The committed migrations and schema.prisma agree (checked by Prisma's own schema engine, offline). */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pendingSchemaSql } from '../../prisma/schema-engine.ts';
import { openDatabase } from '../../platform/db/database.ts';
import { applyMigrations, readMigrations } from '../../platform/db/migrate.ts';
import { PGlite } from '@electric-sql/pglite';

describe('migrations', () => {
  it('schema.prisma has no changes missing from prisma/migrations', async () => {
    expect(await pendingSchemaSql()).toBe('');
  }, 60_000);

  it('apply once, record checksums like prisma migrate, and refuse an edited migration', async () => {
    const lite = new PGlite();
    const session = {
      query: async <R>(sql: string, params?: unknown[]) => (await lite.query(sql, params)).rows as R[],
      exec: async (sql: string) => void (await lite.exec(sql)),
    };
    const all = readMigrations();
    expect(await applyMigrations(session, all)).toEqual(all.map((m) => m.name));
    expect(await applyMigrations(session, all)).toEqual([]);
    const rows = await session.query<{ migration_name: string; checksum: string; finished_at: Date | null }>('SELECT migration_name, checksum, finished_at FROM _prisma_migrations');
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(all.map((m) => [m.name, m.checksum]));
    const edited = all.map((m, i) => (i === 0 ? { ...m, checksum: 'x' } : m));
    await expect(applyMigrations(session, edited)).rejects.toThrow(/modified after it was applied/);
    await lite.close();
  }, 60_000);

  it('an embedded database keeps its data across restarts', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'om-pglite-'));
    const logger = pino({ level: 'silent' });
    const first = await openDatabase({ databaseUrl: undefined, dataDir: dir, logger });
    await first.prisma.site.create({ data: { code: 'KEEP', name: 'kept' } });
    await first.close();
    const second = await openDatabase({ databaseUrl: undefined, dataDir: dir, logger });
    expect(await second.prisma.site.findUnique({ where: { code: 'KEEP' } })).toMatchObject({ name: 'kept' });
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

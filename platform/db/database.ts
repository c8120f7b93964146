/**
 * Opens the relational store: real PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite
 * under DATA_DIR/pglite. Migrations are applied before the Prisma client is handed out.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from './generated/client.ts';
import { applyMigrations, type SqlSession } from './migrate.ts';
import { liteChangeFeed, pgChangeFeed, type ChangeFeed } from './change-feed.ts';
import type { Logger } from '../logger.ts';

export { Prisma };
export type Db = PrismaClient;
/** A client or an interactive-transaction client: repositories accept either. */
export type DbTx = PrismaClient | Prisma.TransactionClient;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly prisma: Db;
  /** Committed changes to the tables read caches depend on (platform/db/change-feed.ts). */
  readonly changes: ChangeFeed;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  logger: Logger;
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const log = opts.logger.child({ module: 'db' });
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    pool.on('error', (err) => log.warn({ err }, 'idle postgres connection failed'));
    const changes = pgChangeFeed({ connectionString: opts.databaseUrl, logger: opts.logger });
    const client = await pool.connect();
    try {
      const applied = await applyMigrations(pgSession(client));
      log.info({ applied }, 'postgres ready');
    } finally {
      client.release();
    }
    await changes.start();
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    return {
      kind: 'postgres',
      prisma,
      changes,
      ping: () => ping(prisma),
      close: async () => {
        await changes.close();
        await prisma.$disconnect();
        await pool.end();
      },
    };
  }
  let dataDir: string | undefined;
  if (!opts.inMemory) {
    dataDir = resolve(join(opts.dataDir, 'pglite'));
    mkdirSync(dataDir, { recursive: true });
  }
  const lite = new PGlite(dataDir);
  await lite.waitReady;
  const applied = await applyMigrations(liteSession(lite));
  log.info({ applied, dataDir: dataDir ?? 'memory' }, 'embedded PGlite ready');
  const changes = await liteChangeFeed(lite);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(lite) });
  return {
    kind: 'pglite',
    prisma,
    changes,
    ping: () => ping(prisma),
    close: async () => {
      await changes.close();
      await prisma.$disconnect();
      await lite.close();
    },
  };
}

async function ping(prisma: Db): Promise<boolean> {
  try {
    await prisma.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

function pgSession(client: pg.PoolClient): SqlSession {
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

function liteSession(lite: PGlite): SqlSession {
  return {
    query: async <R>(sql: string, params?: unknown[]) => (await lite.query(sql, params)).rows as R[],
    exec: async (sql) => {
      await lite.exec(sql);
    },
  };
}

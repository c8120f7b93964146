/**
 * Prisma's schema engine as WebAssembly, driven with an in-memory PGlite database.
 * The Prisma CLI downloads a native schema engine for `migrate`, which fails offline; this does not.
 * Used by prisma/migrations-tool.ts (create migrations, check drift) and by the drift test.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';

export const SCHEMA_PATH = resolve(import.meta.dirname, 'schema.prisma');
export const MIGRATIONS_DIR = resolve(import.meta.dirname, 'migrations');

// lib is ES-only (no DOM): describe the part of WebAssembly used here
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

let loaded = false;
function loadWasm(): void {
  if (loaded) return;
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/schema_engine_bg\.js$/, 'schema_engine_bg.wasm');
  const module = new WA.Module(readFileSync(wasmPath));
  const instance = new WA.Instance(module, { './schema_engine_bg.js': bg });
  (bg as unknown as { __wbg_set_wasm(x: unknown): void }).__wbg_set_wasm(instance.exports);
  (instance.exports as unknown as { __wbindgen_start(): void }).__wbindgen_start();
  loaded = true;
}

function migrationList(): bg.MigrationList {
  const dirs = existsSync(MIGRATIONS_DIR)
    ? readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    : [];
  const lockPath = join(MIGRATIONS_DIR, 'migration_lock.toml');
  return {
    baseDir: MIGRATIONS_DIR,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((name) => ({
      path: name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: readFileSync(join(MIGRATIONS_DIR, name, 'migration.sql'), 'utf8') } },
    })),
  };
}

/** SQL that takes a database built from the committed migrations to the current schema.prisma ('' = no drift). */
export async function pendingSchemaSql(): Promise<string> {
  loadWasm();
  const content = readFileSync(SCHEMA_PATH, 'utf8');
  const pg = new PGlite();
  const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(pg) as unknown as SqlMigrationAwareDriverAdapterFactory);
  const engine = await bg.SchemaEngine.new({ datamodels: [['schema.prisma', content]] }, () => {}, factory);
  try {
    const result = await engine.diff({
      from: { tag: 'migrations', ...migrationList() },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content }] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    const sql = result.stdout ?? '';
    return /^\s*(--[^\n]*\n\s*)*(-- This is an empty migration\.)?\s*$/.test(sql) ? '' : sql;
  } finally {
    engine.free();
    await pg.close();
  }
}

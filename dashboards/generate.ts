/**
 * `npm run dashboards`: writes dashboards/provisioning/** (datasources, dashboard provider, one JSON
 * per board) and removes board JSON files that no longer have a board. Prints what it wrote.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards } from './catalog.ts';
import { DASHBOARD_JSON_DIR, renderProvisioning } from './provisioning.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), 'provisioning');
const files = renderProvisioning(buildDashboards());

for (const [rel, content] of files) {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  let before: string | undefined;
  try {
    before = readFileSync(path, 'utf8');
  } catch {
    before = undefined;
  }
  writeFileSync(path, content);
  console.log(`${before === undefined ? 'created  ' : before === content ? 'unchanged' : 'updated  '} ${relative(process.cwd(), path)}`);
}
const jsonDir = join(root, DASHBOARD_JSON_DIR);
for (const name of readdirSync(jsonDir)) {
  if (name.endsWith('.json') && !files.has(`${DASHBOARD_JSON_DIR}/${name}`)) {
    rmSync(join(jsonDir, name));
    console.log(`removed   ${relative(process.cwd(), join(jsonDir, name))}`);
  }
}

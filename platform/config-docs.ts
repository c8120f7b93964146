/**
 * npm run config:docs — regenerates .env.example and the README configuration table from CONFIG_SPEC
 * (a test fails when either is out of date).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_SPEC } from './config.ts';

const specs = Object.values(CONFIG_SPEC);
const env = ['# Every setting the service reads (platform/config.ts). Unset = the default shown.', ''];
for (const s of specs) env.push(`# ${s.description}`, s.default === undefined ? `# ${s.env}=` : `${s.env}=${s.default}`, '');
writeFileSync(new URL('../.env.example', import.meta.url), env.join('\n').trimEnd() + '\n');

const table = [
  '| Variable | Default | Meaning |',
  '| --- | --- | --- |',
  ...specs.map((s) => `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : `\`${s.default}\``} | ${s.description} |`),
].join('\n');
const readmeUrl = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeUrl, 'utf8');
const next = readme.replace(/(<!-- config-table:start -->\n)[\s\S]*?(\n<!-- config-table:end -->)/, `$1${table}$2`);
if (next === readme && !readme.includes(table)) throw new Error('README.md has no <!-- config-table:start/end --> markers');
writeFileSync(readmeUrl, next);
console.log(`wrote .env.example and the README table (${specs.length} variables)`);

/** Command-line handling shared by the benchmark scripts that validate their own options. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** --help: prints the script's header comment (and `footer`), then exits. */
export function printHelpAndExit(moduleUrl: string, footer?: string): never {
  const src = readFileSync(fileURLToPath(moduleUrl), 'utf8');
  console.log(src.slice(src.indexOf('/**') + 3, src.indexOf('*/')).split('\n').map((l) => l.replace(/^ \*\s?/, '')).join('\n').trim());
  if (footer) console.log(footer);
  process.exit(0);
}

/** An integer option in [min, max], or a usage error (exit 2) naming the option. */
export function intArgOf<T extends Record<string, unknown>>(argv: T): (name: keyof T & string, min: number, max: number) => number {
  return (name, min, max) => {
    const raw = String(argv[name]);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`--${name}: expected an integer in [${min}, ${max}], got "${raw}"`);
      process.exit(2);
    }
    return n;
  };
}

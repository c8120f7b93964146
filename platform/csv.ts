/**
 * CSV (RFC 4180), pure. The parser reads quoted fields (with `""` for a quote and embedded line
 * breaks), CRLF, LF or lone CR line ends, an optional UTF-8 byte-order mark and a trailing line end;
 * blank lines are skipped. Malformed input is reported with the physical line number (1-based, where
 * the record starts) instead of being guessed at. The writer quotes only when needed and, by default,
 * defuses spreadsheet formulas: a text cell starting with = + - @ TAB or CR gets a leading `'`
 * (plain numbers such as -12.5 are left alone). `unescapeFormula` undoes exactly that, so an exported
 * file reads back to the same values.
 */

export interface CsvRecord {
  /** Physical line (1-based) where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvParseError {
  line: number;
  message: string;
}

export interface CsvParseResult {
  records: CsvRecord[];
  errors: CsvParseError[];
  /** Parsing stopped early at one of the limits (maxRecords, maxErrors): the rest of the input was not read. */
  truncated?: boolean;
}

export interface CsvParseOptions {
  delimiter?: string;
  /** Stop after this many records (a file known to be too long need not be held in memory whole). */
  maxRecords?: number;
  /** Stop after this many errors. */
  maxErrors?: number;
  /** A record with more fields is an error (and skipped) instead of being kept. */
  maxFields?: number;
}

/** Parses CSV text. Keeps going after a malformed record (skipping the rest of its line) so every error is reported. */
export function parseCsv(input: string, opts: CsvParseOptions = {}): CsvParseResult {
  const delimiter = opts.delimiter ?? ',';
  const maxRecords = opts.maxRecords ?? Infinity;
  const maxErrors = opts.maxErrors ?? Infinity;
  const maxFields = opts.maxFields ?? Infinity;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') throw new Error(`invalid CSV delimiter ${JSON.stringify(delimiter)}`);
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  const errors: CsvParseError[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;

  /** Length of the line break at `at` (2 for CRLF, 1 for LF or CR), 0 when there is none. */
  const breakAt = (at: number): number => {
    const c = text[at];
    if (c === '\n') return 1;
    if (c === '\r') return text[at + 1] === '\n' ? 2 : 1;
    return 0;
  };

  /** Skips to just after the next line break (or the end), counting the line. */
  const skipLine = (): void => {
    while (i < n && breakAt(i) === 0) i++;
    if (i < n) {
      i += breakAt(i);
      line++;
    }
  };

  while (i < n) {
    if (records.length >= maxRecords || errors.length >= maxErrors) return { records, errors, truncated: true };
    const startLine = line;
    const fields: string[] = [];
    let quotedAny = false;
    let failed = false;

    // one record
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        quotedAny = true;
        const fieldLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          const br = breakAt(i);
          if (br > 0) {
            value += text.slice(i, i + br);
            i += br;
            line++;
            continue;
          }
          value += c;
          i++;
        }
        if (!closed) {
          errors.push({ line: fieldLine, message: 'quoted field is not closed before the end of the file' });
          return { records, errors };
        }
        if (i < n && text[i] !== delimiter && breakAt(i) === 0) {
          errors.push({ line, message: `unexpected character ${JSON.stringify(text[i])} after a closing quote (a quote inside a quoted field is written "")` });
          failed = true;
          skipLine();
          break;
        }
      } else {
        const start = i;
        while (i < n && text[i] !== delimiter && breakAt(i) === 0) {
          if (text[i] === '"') break;
          i++;
        }
        if (text[i] === '"') {
          errors.push({ line, message: 'quote inside an unquoted field (enclose the field in quotes and write the quote as "")' });
          failed = true;
          skipLine();
          break;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (fields.length > maxFields) {
        errors.push({ line: startLine, message: `more than ${maxFields} fields in one record` });
        failed = true;
        skipLine();
        break;
      }
      if (i >= n) break;
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      // a line break ends the record
      i += breakAt(i);
      line++;
      break;
    }

    if (failed) continue;
    // blank line (one empty unquoted field): skipped
    if (fields.length === 1 && fields[0] === '' && !quotedAny) continue;
    records.push({ line: startLine, fields });
  }
  return { records, errors };
}

export type CsvCell = string | number | boolean | null | undefined;

export interface CsvWriteOptions {
  delimiter?: string;
  /** Line end; RFC 4180 says CRLF (the default). */
  eol?: '\r\n' | '\n';
  /** Start with a UTF-8 byte-order mark (spreadsheets then read non-ASCII text correctly). */
  bom?: boolean;
  /** Prefix cells that a spreadsheet would run as a formula with `'` (default true). */
  escapeFormulas?: boolean;
}

const PLAIN_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const FORMULA_START = /^'*[=+\-@\t\r]/;
const ESCAPED_FORMULA = /^'+[=+\-@\t\r]/;

/** `'` + value when a spreadsheet would treat the value as a formula; plain numbers are left as they are. */
export function escapeFormula(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** Undoes `escapeFormula` (strips one leading `'` before a formula character). */
export function unescapeFormula(value: string): string {
  return ESCAPED_FORMULA.test(value) ? value.slice(1) : value;
}

function cellText(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) throw new Error(`CSV cell is not a finite number: ${cell}`);
    return String(cell);
  }
  return String(cell);
}

/** One CSV document: rows of cells, each row ended by the line end. */
export function writeCsv(rows: readonly (readonly CsvCell[])[], opts: CsvWriteOptions = {}): string {
  const delimiter = opts.delimiter ?? ',';
  const eol = opts.eol ?? '\r\n';
  const escape = opts.escapeFormulas ?? true;
  const needsQuotes = (s: string): boolean => s.includes(delimiter) || s.includes('"') || s.includes('\n') || s.includes('\r');
  let out = opts.bom ? '\ufeff' : '';
  for (const row of rows) {
    out +=
      row
        .map((cell) => {
          let s = cellText(cell);
          if (escape && typeof cell === 'string') s = escapeFormula(s);
          // a lone empty cell is quoted, or the row would read back as a skipped blank line
          return needsQuotes(s) || (s === '' && row.length === 1) ? `"${s.replace(/"/g, '""')}"` : s;
        })
        .join(delimiter) + eol;
  }
  return out;
}

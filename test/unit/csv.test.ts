import { describe, expect, it } from 'vitest';
import { escapeFormula, parseCsv, unescapeFormula, writeCsv, type CsvCell } from '../../platform/csv.ts';

const fieldsOf = (text: string) => parseCsv(text).records.map((r) => r.fields);
const linesOf = (text: string) => parseCsv(text).records.map((r) => r.line);

describe('parseCsv', () => {
  const cases: { name: string; text: string; fields: string[][]; lines?: number[] }[] = [
    { name: 'plain LF', text: 'a,b\n1,2\n', fields: [['a', 'b'], ['1', '2']] },
    { name: 'CRLF', text: 'a,b\r\n1,2\r\n', fields: [['a', 'b'], ['1', '2']] },
    { name: 'lone CR line ends', text: 'a,b\r1,2', fields: [['a', 'b'], ['1', '2']] },
    { name: 'no trailing line end', text: 'a,b\n1,2', fields: [['a', 'b'], ['1', '2']] },
    { name: 'UTF-8 BOM is dropped', text: '\ufeffcode,name\nP1,泵\n', fields: [['code', 'name'], ['P1', '泵']] },
    { name: 'quoted delimiter', text: '"a,b",c\n', fields: [['a,b', 'c']] },
    { name: 'escaped quotes', text: '"say ""hi""",x\n', fields: [['say "hi"', 'x']] },
    { name: 'quoted empty and empty cells', text: '"",,x\n', fields: [['', '', 'x']] },
    { name: 'trailing delimiter = empty last field', text: 'a,b,\n', fields: [['a', 'b', '']] },
    { name: 'embedded LF and CRLF in quotes', text: 'h1,h2\n"line1\nline2","x\r\ny"\nnext,row\n', fields: [['h1', 'h2'], ['line1\nline2', 'x\r\ny'], ['next', 'row']], lines: [1, 2, 5] },
    { name: 'blank lines are skipped, line numbers stay physical', text: 'a\n\n\nb\n\n', fields: [['a'], ['b']], lines: [1, 4] },
    { name: 'spaces are kept', text: ' a , b \n', fields: [[' a ', ' b ']] },
    { name: 'a lone quoted empty field is a record', text: 'a\n""\n', fields: [['a'], ['']] },
    { name: 'only a BOM', text: '\ufeff', fields: [] },
    { name: 'empty', text: '', fields: [] },
  ];
  it.each(cases)('$name', ({ text, fields, lines }) => {
    const r = parseCsv(text);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.fields)).toEqual(fields);
    if (lines) expect(r.records.map((x) => x.line)).toEqual(lines);
  });

  const bad: { name: string; text: string; errors: { line: number; message: RegExp }[]; fields: string[][] }[] = [
    { name: 'unterminated quote reports where it opened', text: 'a,b\n1,2\n3,"open\nmore\n', errors: [{ line: 3, message: /not closed/ }], fields: [['a', 'b'], ['1', '2']] },
    { name: 'text after a closing quote', text: 'a,b\n"x"y,2\nok,1\n', errors: [{ line: 2, message: /after a closing quote/ }], fields: [['a', 'b'], ['ok', '1']] },
    { name: 'quote inside an unquoted field', text: 'a,b\nab"c,2\nok,1\nx,"y"z\n', errors: [{ line: 2, message: /quote inside an unquoted field/ }, { line: 4, message: /after a closing quote/ }], fields: [['a', 'b'], ['ok', '1']] },
    { name: 'line numbers count embedded line breaks', text: 'h\n"a\nb"\nx"y\n', errors: [{ line: 4, message: /quote inside/ }], fields: [['h'], ['a\nb']] },
  ];
  it.each(bad)('reports $name and keeps reading', ({ text, errors, fields }) => {
    const r = parseCsv(text);
    expect(r.errors.map((e) => e.line)).toEqual(errors.map((e) => e.line));
    r.errors.forEach((e, i) => expect(e.message).toMatch(errors[i]!.message));
    expect(r.records.map((x) => x.fields)).toEqual(fields);
  });

  it('honours another delimiter and refuses impossible ones', () => {
    expect(parseCsv('a;"b;c"\n', { delimiter: ';' }).records[0]!.fields).toEqual(['a', 'b;c']);
    expect(() => parseCsv('a', { delimiter: '"' })).toThrow(/delimiter/);
  });

  it('gives the starting line of each record', () => {
    expect(linesOf('a\r\n"b\r\nc"\r\nd')).toEqual([1, 2, 4]);
  });
});

describe('formula injection', () => {
  const cases: [string, string][] = [
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+cmd|/C calc', "'+cmd|/C calc"],
    ['-2+3', "'-2+3"],
    ['@SUM(1)', "'@SUM(1)"],
    ['\tx', "'\tx"],
    ['\r=1', "'\r=1"],
    ["'=already", "''=already"],
    ['-12.5', '-12.5'],
    ['+86', '+86'],
    ['1e-3', '1e-3'],
    ['a=b', 'a=b'],
    ["it's", "it's"],
    ['', ''],
  ];
  it.each(cases)('escape %j → %j and back', (value, escaped) => {
    expect(escapeFormula(value)).toBe(escaped);
    expect(unescapeFormula(escaped)).toBe(value);
  });

  it('the writer escapes text cells but not numbers', () => {
    expect(writeCsv([['=1+2', -5, '-5', '@x', 'plain']])).toBe("'=1+2,-5,-5,'@x,plain\r\n");
    expect(writeCsv([['=1+2']], { escapeFormulas: false })).toBe('=1+2\r\n');
  });
});

describe('writeCsv', () => {
  it('quotes only when needed, doubles quotes, CRLF by default, optional BOM', () => {
    expect(writeCsv([['a', 'b,c', 'say "hi"', 'two\nlines', null, undefined, true, 3.5]])).toBe('a,"b,c","say ""hi""","two\nlines",,,true,3.5\r\n');
    expect(writeCsv([['x']], { eol: '\n', bom: true })).toBe('\ufeffx\n');
    expect(writeCsv([[''], ['a']])).toBe('""\r\na\r\n');
    expect(() => writeCsv([[Number.NaN]])).toThrow(/finite/);
  });

  const tables: { name: string; rows: CsvCell[][] }[] = [
    { name: 'tricky text', rows: [['code', 'name', 'note'], ['P-1', 'Pump "big", 7.5kW', 'line1\r\nline2'], ['P-2', '  spaced  ', ''], ['P-3', '=HYPERLINK("x")', '@risk']] },
    { name: 'unicode and quotes only', rows: [['名称', '"'], ['泵站 A', '""']] },
    { name: 'single column with empty cells', rows: [['x'], [''], ['y'], ['']] },
  ];
  it.each(tables)('round trip: $name', ({ rows }) => {
    for (const eol of ['\r\n', '\n'] as const) {
      const text = writeCsv(rows, { eol, bom: true });
      const back = parseCsv(text);
      expect(back.errors).toEqual([]);
      expect(back.records.map((r) => r.fields.map(unescapeFormula))).toEqual(rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c)))));
    }
  });

  it('a parsed file has as many records as written rows', () => {
    expect(fieldsOf(writeCsv([['a'], ['b\nc'], ['d']]))).toHaveLength(3);
  });

  it('stops at the limits instead of holding a hostile file in memory', () => {
    const many = parseCsv('a\n'.repeat(100), { maxRecords: 10 });
    expect(many.records).toHaveLength(10);
    expect(many.truncated).toBe(true);
    const bad = parseCsv('a"b\n'.repeat(100), { maxErrors: 5 });
    expect(bad.errors).toHaveLength(5);
    expect(bad.truncated).toBe(true);
    const wide = parseCsv(`${'x,'.repeat(50)}x\na,b\n`, { maxFields: 20 });
    expect(wide.errors).toEqual([{ line: 1, message: 'more than 20 fields in one record' }]);
    expect(wide.records.map((r) => r.fields)).toEqual([['a', 'b']]);
    expect(parseCsv('a,b\n1,2\n', { maxRecords: 2, maxErrors: 1, maxFields: 2 })).toEqual({ records: [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['1', '2'] }], errors: [] });
  });
});

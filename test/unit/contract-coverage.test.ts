import { describe, expect, it } from 'vitest';
import { checkTerm, coverageOf, coveringContract, parseCoverage, parseSlaTargets, slaSourceFor, slaTargetsFor, type ContractCandidate } from '../../maintenance/contract-coverage.ts';
import { DEFAULT_SLA_TARGETS } from '../../maintenance/sla.ts';

const d = (s: string) => new Date(`${s}T00:00:00Z`);
const contract = (c: Partial<ContractCandidate> & Pick<ContractCandidate, 'code'>): ContractCandidate => ({
  id: c.code,
  customerId: 'cust-1',
  serviceLevel: 'standard',
  startsOn: d('2026-01-01'),
  endsOn: d('2026-12-31'),
  active: true,
  coverage: {},
  ...c,
});
const asset = { siteId: 'site-a', type: 'pump', customerId: 'cust-1' };
const at = new Date('2026-06-15T10:00:00Z');

describe('coverageOf', () => {
  const cases: { name: string; c: ContractCandidate; asset?: typeof asset; at?: Date; want: boolean | string }[] = [
    { name: 'customer-wide contract in its term', c: contract({ code: 'C' }), want: true },
    { name: 'inactive', c: contract({ code: 'C', active: false }), want: 'inactive' },
    { name: 'another customer', c: contract({ code: 'C', customerId: 'cust-2' }), want: 'other customer' },
    { name: 'asset without a customer', c: contract({ code: 'C' }), asset: { ...asset, customerId: null as unknown as string }, want: 'other customer' },
    { name: 'before the start', c: contract({ code: 'C', startsOn: d('2026-07-01') }), want: 'not started' },
    { name: 'after the end', c: contract({ code: 'C', endsOn: d('2026-06-14') }), want: 'ended' },
    { name: 'end day is inclusive (late in the day)', c: contract({ code: 'C', endsOn: d('2026-06-15') }), at: new Date('2026-06-15T23:59:59Z'), want: true },
    { name: 'start day is inclusive', c: contract({ code: 'C', startsOn: d('2026-06-15') }), at: new Date('2026-06-15T00:00:00Z'), want: true },
    { name: 'open-ended', c: contract({ code: 'C', endsOn: null }), at: new Date('2030-01-01T00:00:00Z'), want: true },
    { name: 'site listed', c: contract({ code: 'C', coverage: { siteIds: ['site-a', 'site-b'] } }), want: true },
    { name: 'site not listed', c: contract({ code: 'C', coverage: { siteIds: ['site-b'] } }), want: 'site not covered' },
    { name: 'asset type not listed', c: contract({ code: 'C', coverage: { assetTypes: ['chiller'] } }), want: 'asset type not covered' },
    { name: 'empty lists mean all', c: contract({ code: 'C', coverage: { siteIds: [], assetTypes: [] } }), want: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = coverageOf(c.c, c.asset ?? asset, c.at ?? at);
      expect(r.covers ? true : r.reason).toBe(c.want);
    });
  }
});

describe('coveringContract', () => {
  const cases: { name: string; contracts: ContractCandidate[]; want: string | undefined }[] = [
    { name: 'none', contracts: [], want: undefined },
    { name: 'only non-covering', contracts: [contract({ code: 'OLD', endsOn: d('2025-12-31') })], want: undefined },
    {
      name: 'most specific wins over a higher service level',
      contracts: [contract({ code: 'WIDE', serviceLevel: 'premium' }), contract({ code: 'SITE', serviceLevel: 'basic', coverage: { siteIds: ['site-a'] } })],
      want: 'SITE',
    },
    {
      name: 'site + type beats site only',
      contracts: [contract({ code: 'SITE', coverage: { siteIds: ['site-a'] } }), contract({ code: 'BOTH', coverage: { siteIds: ['site-a'], assetTypes: ['pump'] } })],
      want: 'BOTH',
    },
    {
      name: 'same specificity: highest service level',
      contracts: [contract({ code: 'STD' }), contract({ code: 'PREM', serviceLevel: 'premium' }), contract({ code: 'BASIC', serviceLevel: 'basic' })],
      want: 'PREM',
    },
    {
      name: 'same level: latest start, then code',
      contracts: [contract({ code: 'B', startsOn: d('2025-01-01'), endsOn: null }), contract({ code: 'A' }), contract({ code: 'C' })],
      want: 'A',
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(coveringContract(c.contracts, asset, at)?.code).toBe(c.want));
  }
});

describe('SLA targets', () => {
  it('converts minutes to ms and keeps defaults for priorities the contract does not name', () => {
    const t = slaTargetsFor({ urgent: { responseMinutes: 30, resolutionMinutes: 120 } });
    expect(t.urgent).toEqual({ responseMs: 30 * 60_000, resolutionMs: 120 * 60_000 });
    expect(t.high).toEqual(DEFAULT_SLA_TARGETS.high);
    expect(t.low).toEqual(DEFAULT_SLA_TARGETS.low);
  });
  it('invalid stored targets fall back to the defaults', () => {
    expect(slaTargetsFor({ urgent: { responseMinutes: -1, resolutionMinutes: 5 } })).toEqual(DEFAULT_SLA_TARGETS);
  });
  it('source per priority', () => {
    expect(slaSourceFor({ urgent: { responseMinutes: 30, resolutionMinutes: 120 } }, 'urgent')).toBe('contract');
    expect(slaSourceFor({ urgent: { responseMinutes: 30, resolutionMinutes: 120 } }, 'medium')).toBe('default');
  });

  const cases: { raw: unknown; field?: string }[] = [
    { raw: {} },
    { raw: { high: { responseMinutes: 60, resolutionMinutes: 60 } } },
    { raw: { critical: { responseMinutes: 1, resolutionMinutes: 2 } }, field: 'slaTargets.critical' },
    { raw: { high: { responseMinutes: 0, resolutionMinutes: 60 } }, field: 'slaTargets.high.responseMinutes' },
    { raw: { high: { responseMinutes: 10, resolutionMinutes: 1.5 } }, field: 'slaTargets.high.resolutionMinutes' },
    { raw: { high: { responseMinutes: 120, resolutionMinutes: 60 } }, field: 'slaTargets.high.responseMinutes' },
    { raw: { high: { responseMinutes: 10 } }, field: 'slaTargets.high.resolutionMinutes' },
    { raw: { high: { responseMinutes: 10, resolutionMinutes: 20, extra: 1 } }, field: 'slaTargets.high.extra' },
    { raw: 'fast', field: 'slaTargets' },
  ];
  for (const c of cases) {
    it(`parseSlaTargets ${JSON.stringify(c.raw)} → ${c.field ?? 'ok'}`, () => {
      const r = parseSlaTargets(c.raw);
      expect(r.ok ? undefined : r.field).toBe(c.field);
    });
  }
});

describe('contract validation', () => {
  it('endsOn before startsOn names endsOn; same day is fine; open-ended is fine', () => {
    expect(checkTerm(d('2026-02-01'), d('2026-01-31'))).toMatchObject({ ok: false, field: 'endsOn' });
    expect(checkTerm(d('2026-02-01'), d('2026-02-01')).ok).toBe(true);
    expect(checkTerm(d('2026-02-01'), null).ok).toBe(true);
  });
  it('coverage fields are checked', () => {
    expect(parseCoverage({ siteIds: ['a'], assetTypes: ['pump'], includesParts: true }).ok).toBe(true);
    expect(parseCoverage({ siteIds: 'a' })).toMatchObject({ ok: false, field: 'coverage.siteIds' });
    expect(parseCoverage({ includesParts: 'yes' })).toMatchObject({ ok: false, field: 'coverage.includesParts' });
    expect(parseCoverage({ regions: [] })).toMatchObject({ ok: false, field: 'coverage.regions' });
  });
});

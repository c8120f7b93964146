import { describe, expect, it } from 'vitest';
import { contractRevenue, profitability, rollUpByOrder, sumCosts, workOrderCost, type LogSum, type PartSum } from '../../maintenance/cost-rollup.ts';

const log = (workOrderId: string, kind: 'labour' | 'travel', minutes: number, cost: number, distanceKm = 0): LogSum => ({ workOrderId, kind, minutes, cost, distanceKm });
const part = (workOrderId: string, partId: string, quantity: number, movementUnitCost: number | null, partUnitCost: number | null = null): PartSum => ({
  workOrderId,
  partId,
  partCode: partId.toUpperCase(),
  partName: partId,
  quantity,
  movementUnitCost,
  partUnitCost,
});

describe('workOrderCost', () => {
  const cases: { name: string; logs: LogSum[]; parts: PartSum[]; want: { labour: number; travel: number; parts: number; total: number } }[] = [
    { name: 'nothing', logs: [], parts: [], want: { labour: 0, travel: 0, parts: 0, total: 0 } },
    { name: 'labour only', logs: [log('w', 'labour', 90, 67.5), log('w', 'labour', 30, 22.5)], parts: [], want: { labour: 90, travel: 0, parts: 0, total: 90 } },
    { name: 'travel only', logs: [log('w', 'travel', 40, 18.4, 23)], parts: [], want: { labour: 0, travel: 18.4, parts: 0, total: 18.4 } },
    { name: 'issues minus returns at the movement cost', logs: [], parts: [part('w', 'p', -5, 12.5), part('w', 'p', 2, 12.5)], want: { labour: 0, travel: 0, parts: 37.5, total: 37.5 } },
    { name: 'falls back to the catalogue cost', logs: [], parts: [part('w', 'p', -3, null, 4.2)], want: { labour: 0, travel: 0, parts: 12.6, total: 12.6 } },
    { name: 'movement cost wins over catalogue cost', logs: [], parts: [part('w', 'p', -1, 10, 99)], want: { labour: 0, travel: 0, parts: 10, total: 10 } },
    { name: 'cents add up without float drift', logs: [log('w', 'labour', 1, 0.1), log('w', 'travel', 1, 0.2)], parts: [part('w', 'p', -3, 0.1)], want: { labour: 0.1, travel: 0.2, parts: 0.3, total: 0.6 } },
    { name: 'rows of other orders are ignored', logs: [log('other', 'labour', 60, 100)], parts: [part('other', 'p', -1, 5)], want: { labour: 0, travel: 0, parts: 0, total: 0 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = workOrderCost('w', c.logs, c.parts);
      expect({ labour: r.labour.cost, travel: r.travel.cost, parts: r.parts.cost, total: r.total }).toEqual(c.want);
    });
  }

  it('one line per part (several unit costs merged), minutes and km summed, uncosted quantity reported', () => {
    const r = workOrderCost(
      'w',
      [log('w', 'labour', 90, 60), log('w', 'travel', 30, 12, 15.5), log('w', 'travel', 20, 8, 10.25)],
      [part('w', 'bearing', -4, 12.5), part('w', 'bearing', -1, 13), part('w', 'bearing', 1, 12.5), part('w', 'seal', -2, null, null)],
    );
    expect(r.labour).toEqual({ minutes: 90, cost: 60 });
    expect(r.travel).toEqual({ minutes: 50, distanceKm: 25.75, cost: 20 });
    expect(r.parts.lines).toEqual([
      { partId: 'bearing', partCode: 'BEARING', partName: 'bearing', quantity: 4, cost: 50.5, uncostedQuantity: 0 },
      { partId: 'seal', partCode: 'SEAL', partName: 'seal', quantity: 2, cost: 0, uncostedQuantity: 2 },
    ]);
    expect(r.total).toBe(130.5);
  });

  it('a part fully returned leaves no line', () => {
    expect(workOrderCost('w', [], [part('w', 'p', -2, 5), part('w', 'p', 2, 5)]).parts.lines).toEqual([]);
  });
});

describe('profitability', () => {
  const costs = rollUpByOrder([log('a', 'labour', 60, 100), log('b', 'travel', 30, 20, 10)], [part('a', 'p', -2, 50), part('c', 'p', -1, 5)]);

  it('sums per kind over orders', () => {
    expect(sumCosts(costs.values())).toEqual({ labour: 100, travel: 20, parts: 105, total: 225 });
  });

  it('margin, margin %, cost per order (orders without costs count), top orders', () => {
    const p = profitability(1000, 4, costs, 2);
    expect(p).toMatchObject({ revenue: 1000, margin: 775, marginPct: 77.5, orders: 4, costPerOrder: 56.25 });
    expect(p.topCostOrders).toEqual([
      { workOrderId: 'a', total: 200 },
      { workOrderId: 'b', total: 20 },
    ]);
  });

  it('no revenue → margin % null; no orders → cost per order null', () => {
    expect(profitability(0, 0, new Map()).marginPct).toBeNull();
    expect(profitability(0, 0, new Map()).costPerOrder).toBeNull();
    expect(profitability(100, 1, costs).margin).toBe(-125);
  });
});

describe('contractRevenue', () => {
  const d = (s: string) => new Date(`${s}T00:00:00Z`);
  const year = { startsOn: d('2026-01-01'), endsOn: d('2026-12-31') };
  const cases: { name: string; value: number; term: { startsOn: Date; endsOn: Date | null }; window?: { from: Date; to: Date }; want: { revenue: number; basis: string } }[] = [
    { name: 'no window: the whole value', value: 36500, term: year, want: { revenue: 36500, basis: 'contract_value' } },
    { name: 'January of a 365-day term', value: 36500, term: year, window: { from: d('2026-01-01'), to: d('2026-01-31') }, want: { revenue: 3100, basis: 'pro_rated_term' } },
    { name: 'window overlapping the start', value: 36500, term: year, window: { from: d('2025-12-01'), to: d('2026-01-10') }, want: { revenue: 1000, basis: 'pro_rated_term' } },
    { name: 'window outside the term', value: 36500, term: year, window: { from: d('2027-01-01'), to: d('2027-01-31') }, want: { revenue: 0, basis: 'pro_rated_term' } },
    { name: 'whole term window = full value', value: 1234.56, term: year, window: { from: d('2025-01-01'), to: d('2027-12-31') }, want: { revenue: 1234.56, basis: 'pro_rated_term' } },
    { name: 'open-ended: value per year', value: 36500, term: { startsOn: d('2026-01-01'), endsOn: null }, window: { from: d('2026-03-01'), to: d('2026-03-10') }, want: { revenue: 1000, basis: 'pro_rated_annual' } },
  ];
  for (const c of cases) {
    it(c.name, () => expect(contractRevenue(c.value, c.term, c.window)).toMatchObject(c.want));
  }
});

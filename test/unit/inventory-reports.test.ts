import { describe, expect, it } from 'vitest';
import { averageOnHand, consumedParts, slowMoving, stockOuts, turnover, valuation, weightedAverageCost, type LedgerRow } from '../../maintenance/inventory-reports.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const day = (n: number) => new Date(T0 + n * 86_400_000);

describe('valuation', () => {
  it('values quantity × unit cost in cents, with totals per warehouse and overall', () => {
    const r = valuation([
      { partId: 'p', partCode: 'P', partName: 'P', warehouseId: 'w1', warehouseCode: 'A', quantity: 3, unitCost: 12.5 },
      { partId: 'p', partCode: 'P', partName: 'P', warehouseId: 'w2', warehouseCode: 'B', quantity: 2, unitCost: 12.5 },
      { partId: 'q', partCode: 'Q', partName: 'Q', warehouseId: 'w1', warehouseCode: 'A', quantity: 3, unitCost: 0.1 },
      { partId: 'r', partCode: 'R', partName: 'R', warehouseId: 'w2', warehouseCode: 'B', quantity: 4, unitCost: null },
    ]);
    expect(r.items.map((i) => i.value)).toEqual([37.5, 25, 0.3, 0]);
    expect(r.byWarehouse).toEqual([
      { warehouseId: 'w1', warehouseCode: 'A', quantity: 6, value: 37.8 },
      { warehouseId: 'w2', warehouseCode: 'B', quantity: 6, value: 25 },
    ]);
    expect(r).toMatchObject({ totalQuantity: 12, totalValue: 62.8, unpriced: 1 });
  });
  it('empty stock is worth 0', () => {
    expect(valuation([])).toEqual({ items: [], byWarehouse: [], totalQuantity: 0, totalValue: 0, unpriced: 0 });
  });
});

describe('weightedAverageCost', () => {
  it.each([
    [[{ quantity: 10, unitCost: 5 }, { quantity: 30, unitCost: 7 }, { quantity: 5, unitCost: null }], 6.5],
    [[{ quantity: 3, unitCost: 1 }], 1],
    [[{ quantity: 1, unitCost: 1 }, { quantity: 2, unitCost: 2 }], 1.6667],
    [[{ quantity: 5, unitCost: null }], undefined],
    [[], undefined],
  ])('%o → %s', (receipts, expected) => {
    expect(weightedAverageCost(receipts)).toBe(expected);
  });
});

describe('averageOnHand (time-weighted)', () => {
  it.each([
    // 10 for 2 days, 6 for 3, 0 for 2, 20 for 3 → 98 / 10
    [10, [{ at: day(2), balanceAfter: 6 }, { at: day(5), balanceAfter: 0 }, { at: day(7), balanceAfter: 20 }], 9.8],
    [5, [], 5],
    [0, [{ at: day(5), balanceAfter: 10 }, { at: day(8), balanceAfter: 12 }], 5.4],
    // a change at the very start replaces the opening for the whole window
    [100, [{ at: day(0), balanceAfter: 4 }], 4],
  ])('opening %i, changes %o → %s', (opening, changes, expected) => {
    expect(averageOnHand(opening, changes, day(0), day(10))).toBeCloseTo(expected, 10);
  });
  it('an empty window averages 0', () => {
    expect(averageOnHand(7, [], day(1), day(1))).toBe(0);
  });
});

const row = (partId: string, warehouseId: string, kind: string, quantity: number, balanceAfter: number, d: number): LedgerRow => ({ partId, warehouseId, kind, quantity, balanceAfter, at: day(d) });

describe('turnover', () => {
  const openings = [
    { partId: 'p', warehouseId: 'w1', balance: 10 },
    { partId: 'q', warehouseId: 'w1', balance: 5 },
  ];
  const movements = [
    row('p', 'w1', 'issue', -4, 6, 2),
    row('p', 'w1', 'issue', -6, 0, 5),
    row('p', 'w2', 'receipt', 10, 10, 5),
    row('p', 'w1', 'receipt', 20, 20, 7),
    row('p', 'w2', 'return', 2, 12, 8),
  ];
  it('sums warehouses: consumption, average on-hand, ratio, days of supply', () => {
    const [p, q] = turnover(openings, movements, day(0), day(10));
    // average on-hand 9.8 (w1) + 5.4 (w2) = 15.2; consumed 10 − 2 = 8 over 10 days → 0.8/day
    expect(p).toEqual({ partId: 'p', issued: 10, returned: 2, consumed: 8, averageOnHand: 15.2, turnover: 0.5263, daysOfSupply: 19 });
    expect(q).toEqual({ partId: 'q', issued: 0, returned: 0, consumed: 0, averageOnHand: 5, turnover: 0, daysOfSupply: null });
  });
  it('nothing on hand → no ratio', () => {
    expect(turnover([], [row('z', 'w', 'receipt', 5, 5, 10)], day(0), day(10))[0]).toMatchObject({ averageOnHand: 0, turnover: null, daysOfSupply: null });
  });
});

describe('stockOuts', () => {
  it('counts movements taking a balance from above 0 to 0, per warehouse and part', () => {
    const r = stockOuts(
      [
        { partId: 'p', warehouseId: 'w1', balance: 10 },
        { partId: 'q', warehouseId: 'w1', balance: 3 },
      ],
      [
        row('p', 'w1', 'issue', -4, 6, 2),
        row('p', 'w1', 'issue', -6, 0, 5),
        row('p', 'w1', 'receipt', 20, 20, 7),
        row('p', 'w1', 'issue', -20, 0, 9),
        row('p', 'w2', 'receipt', 1, 1, 3),
        row('p', 'w2', 'transfer_out', -1, 0, 4),
        row('q', 'w1', 'issue', -1, 2, 1),
        row('r', 'w1', 'receipt', 4, 4, 1),
      ],
    );
    expect(r).toEqual([
      { partId: 'p', stockOuts: 3, lastStockOutAt: day(9), warehouses: [{ warehouseId: 'w1', stockOuts: 2 }, { warehouseId: 'w2', stockOuts: 1 }] },
    ]);
  });
  it('a balance already at 0 at the start is not a new stock-out', () => {
    expect(stockOuts([{ partId: 'p', warehouseId: 'w', balance: 0 }], [])).toEqual([]);
  });
});

describe('slowMoving', () => {
  const now = new Date('2026-03-01T00:00:00Z');
  it('keeps parts in stock not issued within the window (never issued included), most valuable first', () => {
    const r = slowMoving(
      [
        { partId: 'a', quantity: 5, unitCost: 10, lastIssueAt: new Date('2025-11-01T00:00:00Z') },
        { partId: 'b', quantity: 2, unitCost: 100, lastIssueAt: null },
        { partId: 'c', quantity: 4, unitCost: 1, lastIssueAt: new Date('2026-02-01T00:00:00Z') },
        { partId: 'd', quantity: 0, unitCost: 1, lastIssueAt: null },
      ],
      now,
      90,
    );
    expect(r.map((x) => [x.partId, x.value, x.daysSinceLastIssue])).toEqual([
      ['b', 200, null],
      ['a', 50, 120],
    ]);
  });
});

describe('consumedParts', () => {
  it('issues minus returns per part, valued at each movement\'s unit cost', () => {
    const r = consumedParts([
      { partId: 'p', kind: 'issue', quantity: -3, unitCost: 12.5 },
      { partId: 'p', kind: 'issue', quantity: -2, unitCost: 13 },
      { partId: 'p', kind: 'return', quantity: 1, unitCost: 12.5 },
      { partId: 'q', kind: 'issue', quantity: -1, unitCost: null },
      { partId: 'r', kind: 'issue', quantity: -2, unitCost: 5 },
      { partId: 'r', kind: 'return', quantity: 2, unitCost: 5 },
      { partId: 's', kind: 'transfer_out', quantity: -9, unitCost: 1 },
    ]);
    expect(r.items).toEqual([
      { partId: 'p', issued: 5, returned: 1, quantity: 4, unitCost: 12.75, value: 51 },
      { partId: 'q', issued: 1, returned: 0, quantity: 1, unitCost: null, value: 0 },
      { partId: 'r', issued: 2, returned: 2, quantity: 0, unitCost: null, value: 0 },
    ]);
    expect(r.totalValue).toBe(51);
  });
});

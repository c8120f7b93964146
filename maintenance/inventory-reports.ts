/**
 * Stock report math (pure): valuation, time-weighted turnover and days of supply, slow movers,
 * stock-outs and a work order's consumed parts. Inputs are plain rows read from the ledger and
 * the balances by `inventory.ts`; money is summed in integer cents so totals do not drift.
 */

const DAY_MS = 86_400_000;

export const toCents = (amount: number): number => Math.round(amount * 100);
const fromCents = (cents: number): number => cents / 100;
const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

// ── Valuation ───────────────────────────────────────────────────────────────────────────────────

export interface ValuationRow {
  partId: string;
  partCode: string;
  partName: string;
  warehouseId: string;
  warehouseCode: string;
  quantity: number;
  /** Unit cost under the chosen method; null = unpriced (valued at 0 and counted in `unpriced`). */
  unitCost: number | null;
}

export interface Valuation {
  items: (ValuationRow & { value: number })[];
  byWarehouse: { warehouseId: string; warehouseCode: string; quantity: number; value: number }[];
  totalQuantity: number;
  totalValue: number;
  /** Rows with stock but no unit cost. */
  unpriced: number;
}

/** quantity × unit cost per part + warehouse, with totals per warehouse and overall. */
export function valuation(rows: readonly ValuationRow[]): Valuation {
  const perWarehouse = new Map<string, { warehouseId: string; warehouseCode: string; quantity: number; cents: number }>();
  let totalCents = 0;
  let totalQuantity = 0;
  let unpriced = 0;
  const items = rows.map((r) => {
    const cents = r.unitCost === null ? 0 : r.quantity * toCents(r.unitCost);
    if (r.unitCost === null && r.quantity > 0) unpriced++;
    totalCents += cents;
    totalQuantity += r.quantity;
    const w = perWarehouse.get(r.warehouseId) ?? { warehouseId: r.warehouseId, warehouseCode: r.warehouseCode, quantity: 0, cents: 0 };
    w.quantity += r.quantity;
    w.cents += cents;
    perWarehouse.set(r.warehouseId, w);
    return { ...r, value: fromCents(cents) };
  });
  const byWarehouse = [...perWarehouse.values()]
    .sort((a, b) => a.warehouseCode.localeCompare(b.warehouseCode))
    .map((w) => ({ warehouseId: w.warehouseId, warehouseCode: w.warehouseCode, quantity: w.quantity, value: fromCents(w.cents) }));
  return { items, byWarehouse, totalQuantity, totalValue: fromCents(totalCents), unpriced };
}

/** Weighted average cost of priced receipts (Σ q·c / Σ q), 4 decimals; undefined when there is none. */
export function weightedAverageCost(receipts: readonly { quantity: number; unitCost: number | null }[]): number | undefined {
  let q = 0;
  let v = 0;
  for (const r of receipts) {
    if (r.unitCost === null || r.quantity <= 0) continue;
    q += r.quantity;
    v += r.quantity * r.unitCost;
  }
  return q > 0 ? round(v / q) : undefined;
}

// ── Time-weighted on-hand, turnover ─────────────────────────────────────────────────────────────

export interface BalanceChange {
  at: Date;
  balanceAfter: number;
}

/**
 * Time-weighted average balance over [from, to): `opening` holds from `from` until the first
 * change, each change's balanceAfter until the next (changes in ledger order, inside the window).
 */
export function averageOnHand(opening: number, changes: readonly BalanceChange[], from: Date, to: Date): number {
  const span = to.getTime() - from.getTime();
  if (span <= 0) return 0;
  let t = from.getTime();
  let balance = opening;
  let area = 0;
  for (const c of changes) {
    const at = Math.min(Math.max(c.at.getTime(), from.getTime()), to.getTime());
    area += balance * (at - t);
    t = at;
    balance = c.balanceAfter;
  }
  area += balance * (to.getTime() - t);
  return area / span;
}

export interface LedgerRow {
  partId: string;
  warehouseId: string;
  kind: string;
  /** Signed delta. */
  quantity: number;
  balanceAfter: number;
  at: Date;
}

export interface Opening {
  partId: string;
  warehouseId: string;
  balance: number;
}

export interface TurnoverItem {
  partId: string;
  /** Issued in the window (positive). */
  issued: number;
  /** Returned to stock in the window. */
  returned: number;
  /** issued − returned: what the window consumed. */
  consumed: number;
  /** Time-weighted average on-hand over the window, summed over warehouses. */
  averageOnHand: number;
  /** consumed / averageOnHand; null when nothing was on hand. */
  turnover: number | null;
  /** averageOnHand / (consumed per day); null when nothing was consumed. */
  daysOfSupply: number | null;
}

const key = (partId: string, warehouseId: string) => `${partId}\u0000${warehouseId}`;

/** Per part: consumption, time-weighted average on-hand, turnover ratio and days of supply over [from, to). */
export function turnover(openings: readonly Opening[], movements: readonly LedgerRow[], from: Date, to: Date): TurnoverItem[] {
  const series = new Map<string, { partId: string; opening: number; changes: BalanceChange[] }>();
  for (const o of openings) series.set(key(o.partId, o.warehouseId), { partId: o.partId, opening: o.balance, changes: [] });
  const flows = new Map<string, { issued: number; returned: number }>();
  for (const m of movements) {
    const k = key(m.partId, m.warehouseId);
    const s = series.get(k) ?? { partId: m.partId, opening: 0, changes: [] };
    s.changes.push({ at: m.at, balanceAfter: m.balanceAfter });
    series.set(k, s);
    const f = flows.get(m.partId) ?? { issued: 0, returned: 0 };
    if (m.kind === 'issue') f.issued += -m.quantity;
    if (m.kind === 'return') f.returned += m.quantity;
    flows.set(m.partId, f);
  }
  const avg = new Map<string, number>();
  for (const s of series.values()) avg.set(s.partId, (avg.get(s.partId) ?? 0) + averageOnHand(s.opening, s.changes, from, to));
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  return [...avg.entries()]
    .map(([partId, a]) => {
      const { issued, returned } = flows.get(partId) ?? { issued: 0, returned: 0 };
      const consumed = issued - returned;
      return {
        partId,
        issued,
        returned,
        consumed,
        averageOnHand: round(a),
        turnover: a > 0 ? round(consumed / a) : null,
        daysOfSupply: consumed > 0 && days > 0 ? round(a / (consumed / days)) : null,
      };
    })
    .sort((x, y) => x.partId.localeCompare(y.partId));
}

// ── Slow movers ─────────────────────────────────────────────────────────────────────────────────

export interface SlowMovingInput {
  partId: string;
  quantity: number;
  unitCost: number | null;
  lastIssueAt: Date | null;
}

/** Parts with stock and no issue in the last `days` days (never issued counts), most valuable first. */
export function slowMoving<T extends SlowMovingInput>(rows: readonly T[], now: Date, days: number): (T & { value: number; daysSinceLastIssue: number | null })[] {
  const cutoff = now.getTime() - days * DAY_MS;
  return rows
    .filter((r) => r.quantity > 0 && (r.lastIssueAt === null || r.lastIssueAt.getTime() < cutoff))
    .map((r) => ({
      ...r,
      value: fromCents(r.unitCost === null ? 0 : r.quantity * toCents(r.unitCost)),
      daysSinceLastIssue: r.lastIssueAt === null ? null : Math.floor((now.getTime() - r.lastIssueAt.getTime()) / DAY_MS),
    }))
    .sort((a, b) => b.value - a.value || a.partId.localeCompare(b.partId));
}

// ── Stock-outs ──────────────────────────────────────────────────────────────────────────────────

export interface StockOutItem {
  partId: string;
  /** Times a balance of this part fell to 0 (any warehouse). */
  stockOuts: number;
  lastStockOutAt: Date | null;
  warehouses: { warehouseId: string; stockOuts: number }[];
}

/**
 * Per part + warehouse, counts the movements that took the balance from above 0 to 0 (starting
 * from the opening balance). Reservations are not ledger movements, so this counts on-hand outs.
 */
export function stockOuts(openings: readonly Opening[], movements: readonly LedgerRow[]): StockOutItem[] {
  const balance = new Map<string, number>();
  for (const o of openings) balance.set(key(o.partId, o.warehouseId), o.balance);
  const perPart = new Map<string, { count: number; last: Date | null; wh: Map<string, number> }>();
  for (const m of movements) {
    const k = key(m.partId, m.warehouseId);
    const prev = balance.get(k) ?? 0;
    balance.set(k, m.balanceAfter);
    if (!(prev > 0 && m.balanceAfter <= 0)) continue;
    const p = perPart.get(m.partId) ?? { count: 0, last: null, wh: new Map<string, number>() };
    p.count++;
    if (!p.last || m.at.getTime() > p.last.getTime()) p.last = m.at;
    p.wh.set(m.warehouseId, (p.wh.get(m.warehouseId) ?? 0) + 1);
    perPart.set(m.partId, p);
  }
  return [...perPart.entries()]
    .map(([partId, p]) => ({
      partId,
      stockOuts: p.count,
      lastStockOutAt: p.last,
      warehouses: [...p.wh.entries()].map(([warehouseId, stockOuts]) => ({ warehouseId, stockOuts })).sort((a, b) => b.stockOuts - a.stockOuts || a.warehouseId.localeCompare(b.warehouseId)),
    }))
    .sort((a, b) => b.stockOuts - a.stockOuts || a.partId.localeCompare(b.partId));
}

// ── Parts consumed by a work order ──────────────────────────────────────────────────────────────

export interface WorkOrderMovement {
  partId: string;
  kind: string;
  /** Signed delta: issues negative, returns positive. */
  quantity: number;
  unitCost: number | null;
}

export interface ConsumedPart {
  partId: string;
  issued: number;
  returned: number;
  /** issued − returned. */
  quantity: number;
  /** value / quantity (2 decimals); null when nothing is consumed or a movement was unpriced. */
  unitCost: number | null;
  /** Σ issued × cost − Σ returned × cost over priced movements. */
  value: number;
}

/** Issues minus returns per part from a work order's ledger rows (the parts cost of the order). */
export function consumedParts(movements: readonly WorkOrderMovement[]): { items: ConsumedPart[]; totalValue: number } {
  const perPart = new Map<string, { issued: number; returned: number; cents: number; unpriced: boolean }>();
  for (const m of movements) {
    if (m.kind !== 'issue' && m.kind !== 'return') continue;
    const p = perPart.get(m.partId) ?? { issued: 0, returned: 0, cents: 0, unpriced: false };
    if (m.kind === 'issue') p.issued += -m.quantity;
    else p.returned += m.quantity;
    if (m.unitCost === null) p.unpriced = true;
    else p.cents += -m.quantity * toCents(m.unitCost);
    perPart.set(m.partId, p);
  }
  let total = 0;
  const items = [...perPart.entries()]
    .map(([partId, p]) => {
      const quantity = p.issued - p.returned;
      total += p.cents;
      return { partId, issued: p.issued, returned: p.returned, quantity, unitCost: quantity > 0 && !p.unpriced ? round(p.cents / quantity / 100, 2) : null, value: fromCents(p.cents) };
    })
    .sort((a, b) => a.partId.localeCompare(b.partId));
  return { items, totalValue: fromCents(total) };
}

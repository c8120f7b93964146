/**
 * Cost roll-up (pure): labour, travel and parts per work order, and contract / project
 * profitability. Inputs are already-grouped sums (the service aggregates in SQL); all money is
 * added in whole cents and returned as numbers rounded to cents.
 *
 * Parts cost of an order = parts issued to it minus parts returned from it (ledger quantities are
 * signed: issue negative, return positive) × the unit cost recorded on the movement, falling back to
 * the part's catalogue cost; quantities with neither are reported as `uncostedQuantity` (cost 0).
 */

export interface LogSum {
  workOrderId: string;
  kind: 'labour' | 'travel';
  minutes: number;
  distanceKm: number;
  cost: number;
}

export interface PartSum {
  workOrderId: string;
  partId: string;
  partCode: string;
  partName: string;
  /** Signed ledger sum for this part + unit cost (issues negative, returns positive). */
  quantity: number;
  movementUnitCost: number | null;
  partUnitCost: number | null;
}

export interface PartLine {
  partId: string;
  partCode: string;
  partName: string;
  /** Net quantity used (issued − returned). */
  quantity: number;
  cost: number;
  /** Net quantity with no unit cost anywhere (counted as 0). */
  uncostedQuantity: number;
}

export interface WorkOrderCost {
  labour: { minutes: number; cost: number };
  travel: { minutes: number; distanceKm: number; cost: number };
  parts: { cost: number; lines: PartLine[] };
  total: number;
}

export const toCents = (n: number): number => Math.round(n * 100);
const fromCents = (c: number): number => c / 100;
const round2 = (n: number): number => Math.round(n * 100) / 100;

interface Acc {
  labourMin: number;
  labourCents: number;
  travelMin: number;
  travelKm: number;
  travelCents: number;
  parts: Map<string, { partId: string; partCode: string; partName: string; quantity: number; cents: number; uncosted: number }>;
}

const emptyAcc = (): Acc => ({ labourMin: 0, labourCents: 0, travelMin: 0, travelKm: 0, travelCents: 0, parts: new Map() });

function addLog(a: Acc, l: LogSum): void {
  if (l.kind === 'labour') {
    a.labourMin += l.minutes;
    a.labourCents += toCents(l.cost);
  } else {
    a.travelMin += l.minutes;
    a.travelKm += l.distanceKm;
    a.travelCents += toCents(l.cost);
  }
}

function addPart(a: Acc, p: PartSum): void {
  const used = -p.quantity;
  const unit = p.movementUnitCost ?? p.partUnitCost;
  const line = a.parts.get(p.partId) ?? { partId: p.partId, partCode: p.partCode, partName: p.partName, quantity: 0, cents: 0, uncosted: 0 };
  line.quantity += used;
  if (unit === null) line.uncosted += used;
  else line.cents += used * toCents(unit);
  a.parts.set(p.partId, line);
}

function finish(a: Acc): WorkOrderCost {
  const lines = [...a.parts.values()]
    .filter((l) => l.quantity !== 0 || l.cents !== 0)
    .sort((x, y) => y.cents - x.cents || x.partCode.localeCompare(y.partCode))
    .map((l) => ({ partId: l.partId, partCode: l.partCode, partName: l.partName, quantity: l.quantity, cost: fromCents(l.cents), uncostedQuantity: l.uncosted }));
  const partsCents = lines.reduce((s, l) => s + toCents(l.cost), 0);
  return {
    labour: { minutes: a.labourMin, cost: fromCents(a.labourCents) },
    travel: { minutes: a.travelMin, distanceKm: round2(a.travelKm), cost: fromCents(a.travelCents) },
    parts: { cost: fromCents(partsCents), lines },
    total: fromCents(a.labourCents + a.travelCents + partsCents),
  };
}

/** Cost of each work order present in the inputs. */
export function rollUpByOrder(logs: readonly LogSum[], parts: readonly PartSum[]): Map<string, WorkOrderCost> {
  const accs = new Map<string, Acc>();
  const acc = (id: string): Acc => {
    let a = accs.get(id);
    if (!a) accs.set(id, (a = emptyAcc()));
    return a;
  };
  for (const l of logs) addLog(acc(l.workOrderId), l);
  for (const p of parts) addPart(acc(p.workOrderId), p);
  return new Map([...accs].map(([id, a]) => [id, finish(a)]));
}

/** Cost of one work order (rows of other orders are ignored). */
export function workOrderCost(workOrderId: string, logs: readonly LogSum[], parts: readonly PartSum[]): WorkOrderCost {
  const a = emptyAcc();
  for (const l of logs) if (l.workOrderId === workOrderId) addLog(a, l);
  for (const p of parts) if (p.workOrderId === workOrderId) addPart(a, p);
  return finish(a);
}

export interface CostTotals {
  labour: number;
  travel: number;
  parts: number;
  total: number;
}

export function sumCosts(costs: Iterable<WorkOrderCost>): CostTotals {
  let labour = 0;
  let travel = 0;
  let parts = 0;
  for (const c of costs) {
    labour += toCents(c.labour.cost);
    travel += toCents(c.travel.cost);
    parts += toCents(c.parts.cost);
  }
  return { labour: fromCents(labour), travel: fromCents(travel), parts: fromCents(parts), total: fromCents(labour + travel + parts) };
}

export interface Profitability {
  revenue: number;
  cost: CostTotals;
  margin: number;
  /** margin / revenue × 100, 2 decimals; null when there is no revenue. */
  marginPct: number | null;
  orders: number;
  /** total cost / orders; null without orders. */
  costPerOrder: number | null;
  /** The most expensive orders (ids and totals), highest first. */
  topCostOrders: { workOrderId: string; total: number }[];
}

/** Revenue against the cost of `orderCount` orders (`costs` holds those that have any cost). */
export function profitability(revenue: number, orderCount: number, costs: ReadonlyMap<string, WorkOrderCost>, top = 5): Profitability {
  const cost = sumCosts(costs.values());
  const revenueCents = toCents(revenue);
  const marginCents = revenueCents - toCents(cost.total);
  const topCostOrders = [...costs]
    .map(([workOrderId, c]) => ({ workOrderId, total: c.total }))
    .filter((o) => o.total !== 0)
    .sort((a, b) => b.total - a.total || a.workOrderId.localeCompare(b.workOrderId))
    .slice(0, top);
  return {
    revenue: fromCents(revenueCents),
    cost,
    margin: fromCents(marginCents),
    marginPct: revenueCents === 0 ? null : round2((marginCents / revenueCents) * 100),
    orders: orderCount,
    costPerOrder: orderCount === 0 ? null : round2(cost.total / orderCount),
    topCostOrders,
  };
}

const DAY_MS = 86_400_000;
const dayNumber = (d: Date): number => Math.floor(d.getTime() / DAY_MS);

export type RevenueBasis = 'contract_value' | 'pro_rated_term' | 'pro_rated_annual';

/**
 * Contract revenue for a window of whole days (from and to inclusive, UTC). Without a window: the
 * contract value. With one: the value × (days of the window inside the term) / (days of the term);
 * an open-ended contract's value is taken as a yearly value (× overlap days / 365).
 */
export function contractRevenue(value: number, term: { startsOn: Date; endsOn: Date | null }, window?: { from: Date; to: Date }): { revenue: number; basis: RevenueBasis; days?: number } {
  if (!window) return { revenue: round2(value), basis: 'contract_value' };
  const start = Math.max(dayNumber(term.startsOn), dayNumber(window.from));
  const end = term.endsOn ? Math.min(dayNumber(term.endsOn), dayNumber(window.to)) : dayNumber(window.to);
  const overlap = Math.max(0, end - start + 1);
  if (!term.endsOn) return { revenue: fromCents(Math.round((toCents(value) * overlap) / 365)), basis: 'pro_rated_annual', days: overlap };
  const termDays = dayNumber(term.endsOn) - dayNumber(term.startsOn) + 1;
  return { revenue: fromCents(Math.round((toCents(value) * overlap) / termDays)), basis: 'pro_rated_term', days: overlap };
}

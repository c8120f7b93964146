/**
 * Optimal batch assignment (pure): orders → engineers with capacities, minimising the total cost.
 *
 * Min-cost flow by successive shortest paths, specialised to the transportation structure: a
 * residual path from a new order runs order → engineer f0 → (move one of f0's orders to) f1 → … →
 * an engineer with spare capacity. The graph Dijkstra walks therefore has only the engineers as
 * nodes; the edge e→f costs min over orders o at e of (c[o][f] − c[o][e]) and is kept per engineer
 * row, recomputed only for engineers whose orders changed. Johnson potentials keep the reduced
 * edge costs non-negative (the full network's order potentials are implied by tightness), so each
 * augmentation is one O(m²) Dijkstra: 1,000 orders × 100 engineers solve in milliseconds where the
 * slot-expanded Hungarian method (1,000 × capacity columns) would take seconds.
 *
 * Infinity marks an ineligible pair. An order no engineer can take — or that cannot fit without
 * exceeding capacities — stays unassigned. When capacity is short, orders are inserted in the given
 * order (put the most urgent first): each insertion is optimal for the orders placed so far, and a
 * later order never displaces an earlier one out of the assignment.
 */

export interface AssignmentProblem {
  /** cost[o][e]: Infinity = not allowed. Row-major, orders × engineers. */
  cost: ArrayLike<number>[];
  /** Orders each engineer can still take. */
  capacity: ArrayLike<number>;
}

export interface AssignmentResult {
  /** Engineer index per order, -1 = unassigned. */
  engineerOf: Int32Array;
  totalCost: number;
  assigned: number;
}

export function solveAssignment(p: AssignmentProblem): AssignmentResult {
  const n = p.cost.length;
  const m = p.capacity.length;
  const engineerOf = new Int32Array(n).fill(-1);
  const load = new Int32Array(m);
  const cap = Int32Array.from({ length: m }, (_, e) => Math.max(0, Math.floor(p.capacity[e] ?? 0)));
  const ordersAt: number[][] = Array.from({ length: m }, () => []);
  // pi: engineer potentials (Johnson); W/Wo: best move e→f and the order realising it
  const pi = new Float64Array(m);
  const W = new Float64Array(m * m).fill(Infinity);
  const Wo = new Int32Array(m * m).fill(-1);
  const dist = new Float64Array(m);
  const prev = new Int32Array(m);
  const done = new Uint8Array(m);

  const refreshRow = (e: number): void => {
    const base = e * m;
    W.fill(Infinity, base, base + m);
    Wo.fill(-1, base, base + m);
    for (const o of ordersAt[e]!) {
      const row = p.cost[o]!;
      const ce = row[e]!;
      for (let f = 0; f < m; f++) {
        if (f === e) continue;
        const c = row[f]!;
        if (c === Infinity) continue;
        const d = c - ce;
        if (d < W[base + f]!) {
          W[base + f] = d;
          Wo[base + f] = o;
        }
      }
    }
  };

  for (let o = 0; o < n; o++) {
    const row = p.cost[o]!;
    // the new order's own potential: makes every first edge non-negative
    let piS = -Infinity;
    for (let f = 0; f < m; f++) if (row[f]! !== Infinity) piS = Math.max(piS, pi[f]! - row[f]!);
    if (piS === -Infinity) continue; // nobody may take it
    for (let f = 0; f < m; f++) {
      dist[f] = row[f]! === Infinity ? Infinity : row[f]! + piS - pi[f]!;
      prev[f] = -1;
      done[f] = 0;
    }
    // Dijkstra (dense) over engineers; stop at the cheapest engineer with spare capacity
    let target = -1;
    let bestActual = Infinity;
    // actual cost to a spare engineer f = reduced distance − piS + pi[f]: once the settled reduced
    // distance is so large that no unsettled spare engineer can beat the best found, stop early
    let minPiSpare = Infinity;
    for (let f = 0; f < m; f++) if (load[f]! < cap[f]! && pi[f]! < minPiSpare) minPiSpare = pi[f]!;
    for (;;) {
      let e = -1;
      let de = Infinity;
      for (let f = 0; f < m; f++) {
        if (!done[f] && dist[f]! < de) {
          de = dist[f]!;
          e = f;
        }
      }
      if (e < 0 || de - piS + minPiSpare >= bestActual) break;
      done[e] = 1;
      if (load[e]! < cap[e]!) {
        const actual = de - piS + pi[e]!;
        if (actual < bestActual) {
          bestActual = actual;
          target = e;
        }
      }
      const base = e * m;
      for (let f = 0; f < m; f++) {
        if (done[f]) continue;
        const w = W[base + f]!;
        if (w === Infinity) continue;
        const nd = de + w + pi[e]! - pi[f]!;
        if (nd < dist[f]!) {
          dist[f] = nd;
          prev[f] = e;
        }
      }
    }
    if (target < 0) continue; // no path to spare capacity
    // potentials: settled nodes move by their distance, capped at the target's (keeps reduced costs ≥ 0);
    // unsettled ones are at least as far as the last settled node, so they move by the cap
    const cut = dist[target]!;
    for (let f = 0; f < m; f++) pi[f] = pi[f]! + (done[f] ? Math.min(dist[f]!, cut) : cut);
    // augment: walk back from the target, moving one order per hop
    const touched = new Set<number>();
    let f = target;
    while (prev[f]! >= 0) {
      const e = prev[f]!;
      const moved = Wo[e * m + f]!;
      const list = ordersAt[e]!;
      list.splice(list.indexOf(moved), 1);
      ordersAt[f]!.push(moved);
      engineerOf[moved] = f;
      touched.add(e);
      touched.add(f);
      f = e;
    }
    ordersAt[f]!.push(o);
    engineerOf[o] = f;
    load[target] = load[target]! + 1;
    touched.add(f);
    for (const t of touched) refreshRow(t);
  }

  let totalCost = 0;
  let assigned = 0;
  for (let o = 0; o < n; o++) {
    const e = engineerOf[o]!;
    if (e >= 0) {
      totalCost += p.cost[o]![e]!;
      assigned++;
    }
  }
  return { engineerOf, totalCost, assigned };
}

/**
 * Baseline: each order (in the given order) to the engineer with spare capacity that is best by
 * `preference` (default: the cost itself; pass travel distances for "nearest available"), among
 * pairs the cost allows. The total is always measured in `cost`.
 */
export function greedyAssignment(p: AssignmentProblem, preference?: ArrayLike<number>[]): AssignmentResult {
  const n = p.cost.length;
  const m = p.capacity.length;
  const left = Int32Array.from({ length: m }, (_, e) => Math.max(0, Math.floor(p.capacity[e] ?? 0)));
  const engineerOf = new Int32Array(n).fill(-1);
  let totalCost = 0;
  let assigned = 0;
  for (let o = 0; o < n; o++) {
    const row = p.cost[o]!;
    const pref = preference?.[o] ?? row;
    let best = -1;
    for (let e = 0; e < m; e++) if (left[e]! > 0 && row[e]! !== Infinity && (best < 0 || pref[e]! < pref[best]!)) best = e;
    if (best < 0) continue;
    engineerOf[o] = best;
    left[best] = left[best]! - 1;
    totalCost += row[best]!;
    assigned++;
  }
  return { engineerOf, totalCost, assigned };
}

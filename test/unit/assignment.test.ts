import { describe, expect, it } from 'vitest';
import { greedyAssignment, solveAssignment } from '../../dispatch/assignment.ts';
import { prng as rng } from '../helpers/fuzz.ts';


/** Exhaustive optimum: every order assigned (Infinity if impossible). */
function bruteForce(cost: number[][], capacity: number[]): number {
  const n = cost.length;
  const m = capacity.length;
  const load = new Array<number>(m).fill(0);
  let best = Infinity;
  const go = (o: number, acc: number): void => {
    if (acc >= best) return;
    if (o === n) {
      best = acc;
      return;
    }
    for (let e = 0; e < m; e++) {
      const c = cost[o]![e]!;
      if (c === Infinity || load[e]! >= capacity[e]!) continue;
      load[e]!++;
      go(o + 1, acc + c);
      load[e]!--;
    }
  };
  go(0, 0);
  return best;
}

/** Reference: Hungarian method (e-maxx, rows ≤ columns) on the slot-expanded matrix; every order assigned. */
function hungarianSlots(cost: number[][], capacity: number[]): number {
  const BIG = 1e9;
  const cols: number[] = [];
  capacity.forEach((c, e) => {
    for (let k = 0; k < c; k++) cols.push(e);
  });
  const n = cost.length;
  const m = cols.length;
  const a = (i: number, j: number): number => {
    const c = cost[i - 1]![cols[j - 1]!]!;
    return c === Infinity ? BIG : c;
  };
  const u = new Array<number>(n + 1).fill(0);
  const v = new Array<number>(m + 1).fill(0);
  const p = new Array<number>(m + 1).fill(0);
  const way = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Array<number>(m + 1).fill(Infinity);
    const used = new Array<boolean>(m + 1).fill(false);
    do {
      used[j0] = true;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0, j) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  let total = 0;
  for (let j = 1; j <= m; j++) if (p[j]) total += a(p[j]!, j);
  return total;
}

describe('solveAssignment', () => {
  it.each([
    { name: 'one order, cheapest engineer', cost: [[5, 3, 9]], capacity: [1, 1, 1], expected: [1], total: 3 },
    {
      name: 'displaces an earlier order when that is cheaper overall',
      // greedy puts order 0 on engineer 0 (1) and order 1 on engineer 1 (100); optimum swaps: 2 + 3
      cost: [
        [1, 2],
        [3, 100],
      ],
      capacity: [1, 1],
      expected: [1, 0],
      total: 5,
    },
    {
      name: 'capacity lets one engineer take several',
      cost: [
        [1, 9],
        [1, 9],
        [1, 9],
      ],
      capacity: [2, 5],
      expected: [0, 0, 1],
      total: 11,
    },
    {
      name: 'ineligible pairs are never used',
      cost: [
        [Infinity, 4],
        [1, Infinity],
      ],
      capacity: [1, 1],
      expected: [1, 0],
      total: 5,
    },
    {
      name: 'an order nobody may take stays unassigned',
      cost: [
        [Infinity, Infinity],
        [2, 1],
      ],
      capacity: [1, 1],
      expected: [-1, 1],
      total: 1,
    },
    {
      name: 'capacity shortage: later orders do not push earlier ones out',
      cost: [
        [5, Infinity],
        [1, Infinity],
      ],
      capacity: [1, 0],
      expected: [0, -1],
      total: 5,
    },
    {
      name: 'a chain of moves (order 2 enters via two reassignments)',
      cost: [
        [1, 2, Infinity],
        [Infinity, 1, 2],
        [1, Infinity, Infinity],
      ],
      capacity: [1, 1, 1],
      expected: [1, 2, 0],
      total: 5,
    },
  ])('$name', ({ cost, capacity, expected, total }) => {
    const r = solveAssignment({ cost, capacity });
    expect([...r.engineerOf]).toEqual(expected);
    expect(r.totalCost).toBe(total);
    expect(r.assigned).toBe(expected.filter((e) => e >= 0).length);
  });

  it('matches the exhaustive optimum on 400 random feasible instances (with ineligible pairs and capacities)', () => {
    const rand = rng(7);
    let checked = 0;
    for (let k = 0; k < 400; k++) {
      const n = 1 + Math.floor(rand() * 6);
      const m = 1 + Math.floor(rand() * 4);
      const capacity = Array.from({ length: m }, () => Math.floor(rand() * 3));
      const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => (rand() < 0.2 ? Infinity : Math.round(rand() * 100) / 4)));
      const optimum = bruteForce(cost, capacity);
      if (optimum === Infinity) continue; // not every order can be placed
      const r = solveAssignment({ cost, capacity });
      expect(r.assigned).toBe(n);
      expect(r.totalCost).toBeCloseTo(optimum, 9);
      // capacities respected
      const load = new Array<number>(m).fill(0);
      for (const e of r.engineerOf) load[e]!++;
      load.forEach((l, e) => expect(l).toBeLessThanOrEqual(capacity[e]!));
      checked++;
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('matches the Hungarian method on slot-expanded mid-size instances (60 orders × 8 engineers)', () => {
    const rand = rng(23);
    for (let k = 0; k < 25; k++) {
      const n = 60;
      const m = 8;
      const capacity = Array.from({ length: m }, () => 6 + Math.floor(rand() * 6));
      // every order has at least one allowed engineer with room: engineer 0 allows everything
      const cost = Array.from({ length: n }, () => Array.from({ length: m }, (_, e) => (e > 0 && rand() < 0.3 ? Infinity : Math.round(rand() * 500))));
      capacity[0] = n;
      const r = solveAssignment({ cost, capacity });
      expect(r.assigned).toBe(n);
      expect(r.totalCost).toBeCloseTo(hungarianSlots(cost, capacity), 6);
    }
  });

  it('is never worse than greedy, and strictly better on a crafted instance', () => {
    const rand = rng(11);
    for (let k = 0; k < 50; k++) {
      const n = 40;
      const m = 8;
      const capacity = Array.from({ length: m }, () => 6);
      const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => Math.round(rand() * 1000)));
      expect(solveAssignment({ cost, capacity }).totalCost).toBeLessThanOrEqual(greedyAssignment({ cost, capacity }).totalCost);
    }
    const cost = [
      [1, 2],
      [3, 100],
    ];
    expect(greedyAssignment({ cost, capacity: [1, 1] }).totalCost).toBe(101);
    expect(solveAssignment({ cost, capacity: [1, 1] }).totalCost).toBe(5);
  });
});

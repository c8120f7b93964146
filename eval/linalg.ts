/** Tiny dense linear algebra for eval/: ordinary least squares through the normal equations. */

/** Solves A·x = b (A square) by Gaussian elimination with partial pivoting; throws when singular. */
export function solve(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-12) throw new Error('singular system');
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]!;
    for (let r = col + 1; r < n; r++) {
      const row = m[r]!;
      const f = row[col]! / p[col]!;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) row[c] = row[c]! - f * p[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = m[r]!;
    let s = row[n]!;
    for (let c = r + 1; c < n; c++) s -= row[c]! * x[c]!;
    x[r] = s / row[r]!;
  }
  return x;
}

/**
 * Least squares y ≈ intercept + X·coef with a small ridge penalty on the coefficients (not the
 * intercept), which keeps nearly collinear sensor columns (e.g. C-MAPSS s9/s14, s8/s13) stable.
 */
export function leastSquares(x: readonly (readonly number[])[], y: readonly number[], ridge = 1e-6): { intercept: number; coef: number[] } {
  const k = (x[0]?.length ?? 0) + 1;
  const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xty = new Array<number>(k).fill(0);
  for (let i = 0; i < x.length; i++) {
    const row = [1, ...x[i]!];
    const yi = y[i]!;
    for (let a = 0; a < k; a++) {
      const ra = row[a]!;
      xty[a] = xty[a]! + ra * yi;
      const xa = xtx[a]!;
      for (let b = a; b < k; b++) xa[b] = xa[b]! + ra * row[b]!;
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) xtx[a]![b] = xtx[b]![a]!;
  for (let a = 1; a < k; a++) xtx[a]![a] = xtx[a]![a]! + ridge * x.length;
  const beta = solve(xtx, xty);
  return { intercept: beta[0]!, coef: beta.slice(1) };
}

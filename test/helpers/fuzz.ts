/** Deterministic randomness for fuzz tests: a seeded PRNG and small pickers. */
export type Rand = () => number;

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r: Rand, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;
export const chance = (r: Rand, p: number): boolean => r() < p;

export function randomBytes(r: Rand, max = 300): Buffer {
  const b = Buffer.alloc(int(r, max));
  for (let i = 0; i < b.length; i++) b[i] = int(r, 256);
  return b;
}

export const uuidOf = (r: Rand): string => {
  const h = Array.from({ length: 32 }, () => int(r, 16).toString(16)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export const WEIRD_STRINGS: readonly string[] = ['', ' ', '\u0000', '\uFFFF', '\uD800', '😀🔥', 'Ω≈ç√', '__proto__', 'constructor', 'prototype', 'toString', '../../etc/passwd', "'; DROP TABLE x; --", '${jndi:ldap://x}', '\n\r\t', 'NaN', 'Infinity', '-0', '1e400', '%00', '<script>alert(1)</script>', 'null', 'true', '0x10'];
export const WEIRD_NUMBERS: readonly number[] = [0, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 5e-324, 2 ** 53 + 1, 1.5, -1, 2 ** 31, -(2 ** 31) - 1, 8.64e15 + 1];

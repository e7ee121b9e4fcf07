/** Summary statistics of a list of numbers (NaN for an empty list). */

/** The median; for an even count, the mean of the two middle values. */
export function median(v: readonly number[]): number {
  if (v.length === 0) return NaN;
  const a = [...v].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

export function mean(v: readonly number[]): number {
  return v.length === 0 ? NaN : v.reduce((x, y) => x + y, 0) / v.length;
}

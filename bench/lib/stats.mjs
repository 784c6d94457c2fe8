// Small statistics for noisy, paired measurements.

export function quantile(values, q) {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);
export const min = (values) => Math.min(...values.filter(Number.isFinite));
export const max = (values) => Math.max(...values.filter(Number.isFinite));

/** "1.003 (0.981–1.020)": median and range of paired ratios. */
export function ratioCell(ratios, digits = 3) {
  if (ratios.length === 0 || !ratios.some(Number.isFinite)) return 'n/a';
  return `${median(ratios).toFixed(digits)} (${min(ratios).toFixed(digits)}–${max(ratios).toFixed(digits)})`;
}

export function msCell(values, digits = 0) {
  if (values.length === 0 || !values.some(Number.isFinite)) return 'n/a';
  return `${median(values).toFixed(digits)} (${min(values).toFixed(digits)}–${max(values).toFixed(digits)})`;
}

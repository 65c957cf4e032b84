/**
 * Exponential moving average as TensorBoard and W&B draw it: a weight in [0, 1) where 0 leaves
 * the series as it is, debiased so the first points are not dragged towards zero. Gaps (null)
 * stay gaps and do not reset the average, so a NaN in the middle of a curve does not kink it.
 */

export function emaSmooth(values: ReadonlyArray<number | null>, weight: number): Array<number | null> {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0) return values.slice();
  const out: Array<number | null> = new Array(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    count += 1;
    // Debias: the average started at 0, so divide by the weight the real points carry so far.
    out[i] = last / (1 - Math.pow(w, count));
  }
  return out;
}

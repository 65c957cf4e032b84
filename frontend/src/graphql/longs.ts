/**
 * The Long scalar on the wire: a JSON number within ±(2^53 - 1), a decimal string beyond
 * (so `JSON.parse` never rounds it silently). The SPA plots and compares steps and times as
 * JavaScript numbers, so it converts here, at the seam, in one place: a value beyond 2^53
 * becomes the nearest double (a chart cannot tell 2^53 + 1 from 2^53 anyway). Code that needs
 * the exact value keeps the wire form (`typeof x === 'string' ? BigInt(x) : x`).
 */

export type WireLong = number | string;

export function longToNumber(v: WireLong): number {
  return typeof v === 'number' ? v : Number(v);
}

export function optionalLongToNumber(v: WireLong | null | undefined): number | null {
  return v === null || v === undefined ? null : longToNumber(v);
}

/** A LongList as numbers; the array itself when every element already is one (the usual case). */
export function longsToNumbers(values: readonly WireLong[]): number[] {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') return values.map(longToNumber);
  }
  return values as number[];
}

export function optionalLongsToNumbers(values: readonly (WireLong | null)[]): (number | null)[] {
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] === 'string') return values.map(optionalLongToNumber);
  }
  return values as (number | null)[];
}

/** Columnar points (a history or a live batch) with their steps and timestamps as numbers. */
export function withNumericSteps<T extends { steps: readonly WireLong[]; timestamps?: readonly WireLong[] }>(
  points: T,
): Omit<T, 'steps' | 'timestamps'> & { steps: number[]; timestamps: T extends { timestamps: readonly WireLong[] } ? number[] : undefined } {
  return {
    ...points,
    steps: longsToNumbers(points.steps),
    timestamps: points.timestamps === undefined ? undefined : longsToNumbers(points.timestamps),
  } as never;
}

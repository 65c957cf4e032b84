import { describe, expect, it } from 'vitest';
import { longsToNumbers, longToNumber, optionalLongsToNumbers, withNumericSteps } from './longs';

describe('Long on the wire', () => {
  it('survives JSON.parse beyond 2^53 as a string, where a number would not', () => {
    const wire = '{"steps":[1,"9007199254740993"]}';
    const parsed = JSON.parse(wire) as { steps: Array<number | string> };
    expect(BigInt(parsed.steps[1] as string)).toBe(2n ** 53n + 1n);
    expect(JSON.parse('9007199254740993')).toBe(9007199254740992); // what a bare number becomes
  });

  it('reads both forms as numbers for charts, leaving all-number arrays as they are', () => {
    const plain = [1, 2, 3];
    expect(longsToNumbers(plain)).toBe(plain);
    expect(longsToNumbers([1, '9007199254740993'])).toEqual([1, 9007199254740992]);
    expect(longToNumber('-12')).toBe(-12);
    expect(optionalLongsToNumbers([null, '5', 6])).toEqual([null, 5, 6]);
    expect(withNumericSteps({ keys: ['a'], steps: ['7'], timestamps: [8] })).toEqual({ keys: ['a'], steps: [7], timestamps: [8] });
  });
});

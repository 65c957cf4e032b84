import { describe, expect, it } from 'vitest';
import { errorLineAndCaret, locateFilterError } from './filterError';

describe('filter error location', () => {
  it('reads the line and column the server reports', () => {
    const loc = locateFilterError("line 1, column 18: expected a value after '>'");
    expect(loc).toEqual({ line: 1, column: 18, detail: "expected a value after '>'" });
  });

  it('finds the position inside a longer message', () => {
    const loc = locateFilterError("Invalid filter at line 2, column 3: unknown attribute 'colour'");
    expect(loc?.line).toBe(2);
    expect(loc?.column).toBe(3);
  });

  it('returns null when there is no position', () => {
    expect(locateFilterError('experiment 42 not found')).toBeNull();
  });

  it('puts the caret under the right character, clamped to the line', () => {
    const filter = 'metrics.acc > ';
    expect(errorLineAndCaret(filter, { line: 1, column: 15, detail: '' })).toEqual({ text: filter, caret: 14 });
    expect(errorLineAndCaret(filter, { line: 1, column: 99, detail: '' }).caret).toBe(filter.length);
    expect(errorLineAndCaret('a = 1\nand b >', { line: 2, column: 7, detail: '' })).toEqual({ text: 'and b >', caret: 6 });
  });
});

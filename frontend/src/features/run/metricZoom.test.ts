import { describe, expect, it } from 'vitest';
import { formatZoom, parseZoom, zoomParamName } from './metricZoom';
import { environmentEntries } from './RunOverview';

describe('chart zoom in the URL', () => {
  it('round-trips a step range', () => {
    expect(parseZoom(formatZoom([100, 2500]))).toEqual([100, 2500]);
    expect(zoomParamName('val.loss')).toBe('zoom.val.loss');
  });
  it('rejects malformed or empty ranges', () => {
    expect(parseZoom('5..5')).toBeNull();
    expect(parseZoom('9..2')).toBeNull();
    expect(parseZoom('a..b')).toBeNull();
    expect(parseZoom(null)).toBeNull();
    expect(formatZoom(null)).toBeNull();
  });
});

describe('environment display', () => {
  it('flattens one level and summarises long package lists', () => {
    const packages = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`pkg${i}`, `1.${i}`]));
    const entries = environmentEntries({ python: '3.11.4', platform: 'Linux', packages });
    expect(entries[0]).toEqual(['python', '3.11.4']);
    expect(entries[2]?.[1]).toMatch(/^pkg0==1\.0, .* … \(20\)$/);
    expect(environmentEntries(null)).toEqual([]);
  });
});

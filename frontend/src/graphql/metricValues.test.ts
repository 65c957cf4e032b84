import { describe, expect, it } from 'vitest';
import { formatMetricValue, metricValueToNumber, metricValueToPlot } from './metricValues';

describe('MetricValue scalar', () => {
  it('decodes the non-finite strings exactly', () => {
    expect(metricValueToNumber('Infinity')).toBe(Infinity);
    expect(metricValueToNumber('-Infinity')).toBe(-Infinity);
    expect(Number.isNaN(metricValueToNumber('NaN'))).toBe(true);
    expect(metricValueToNumber(0.25)).toBe(0.25);
  });
  it('plots NaN as a gap and keeps infinities', () => {
    expect(metricValueToPlot('NaN')).toBeNull();
    expect(metricValueToPlot('-Infinity')).toBe(-Infinity);
  });
  it('formats values compactly', () => {
    expect(formatMetricValue(3)).toBe('3');
    expect(formatMetricValue(0.123456789)).toBe('0.123457');
    expect(formatMetricValue(0.00001234)).toBe('1.2340e-5');
    expect(formatMetricValue('NaN')).toBe('NaN');
    expect(formatMetricValue(null)).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { csvField, runsToCsv } from './csvExport';
import { toRunRow } from './runRows';

describe('CSV export', () => {
  it('quotes fields with separators, quotes, newlines and edge spaces', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.5)).toBe('0.5');
  });

  it('writes the visible columns with ISO times and full-precision metrics', () => {
    const row = toRunRow({
      id: 'r1',
      name: 'rf, deep',
      experimentId: 'e1',
      status: 'FINISHED',
      startTime: Date.UTC(2026, 0, 2, 3, 4, 5),
      params: [{ key: 'model', value: 'rf' }],
      tags: [],
      latestMetrics: [{ key: 'acc', value: 0.123456789012, step: 3 }],
    });
    const csv = runsToCsv(
      [row],
      [
        { kind: 'attributes', key: 'name' },
        { kind: 'attributes', key: 'start_time' },
        { kind: 'metrics', key: 'acc' },
        { kind: 'params', key: 'model' },
        { kind: 'attributes', key: 'experiment' },
      ],
      (id) => (id === 'e1' ? 'churn' : id),
    );
    expect(csv).toBe(
      'run_id,Run,Started,metrics.acc,params.model,Experiment\r\n' +
        'r1,"rf, deep",2026-01-02T03:04:05.000Z,0.123456789012,rf,churn\r\n',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { csvField, runsToCsv } from './csvExport';
import { tableToRunRows } from './runRows';

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
    const rows = tableToRunRows({
      runIds: ['r1'],
      experimentIds: ['e1'],
      names: ['rf, deep'],
      statuses: ['FINISHED'],
      users: [null],
      startTimes: [Date.UTC(2026, 0, 2, 3, 4, 5)],
      endTimes: [null],
      parentIds: [null],
      params: [{ key: 'model', values: ['rf'] }],
      tags: [],
      metrics: [{ key: 'acc', values: [0.123456789012], steps: [3], mins: [null], maxs: [null] }],
    });
    const csv = runsToCsv(
      rows,
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

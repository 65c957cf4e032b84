import { describe, expect, it } from 'vitest';
import { nextSort, parseRunsView, updateRunsView, writeRunsView, type RunsViewState } from './viewState';

const base: RunsViewState = {
  experimentIds: ['e1'],
  filter: '',
  sort: null,
  columns: null,
  selected: [],
  expanded: [],
  page: 1,
};

describe('runs view state in the URL', () => {
  it('round-trips every field, including keys with commas and colons', () => {
    const state: RunsViewState = {
      experimentIds: ['e1', 'e2'],
      filter: "metrics.acc > 0.9 and params.model = 'rf'",
      sort: { column: { kind: 'metrics', key: 'val:acc' }, desc: true },
      columns: ['attributes:name', 'params:a,b', 'metrics.min:loss'],
      selected: ['r1', 'r2'],
      expanded: ['p1'],
      page: 4,
    };
    const url = writeRunsView(state).toString();
    expect(parseRunsView(new URLSearchParams(url))).toEqual(state);
  });

  it('leaves defaults out of the URL', () => {
    expect(writeRunsView(base).toString()).toBe('exp=e1');
  });

  it('distinguishes "no columns chosen" from "default columns"', () => {
    const none = writeRunsView({ ...base, columns: [] });
    expect(parseRunsView(none).columns).toEqual([]);
    expect(parseRunsView(writeRunsView(base)).columns).toBeNull();
  });

  it('ignores malformed values instead of failing', () => {
    const parsed = parseRunsView(new URLSearchParams('exp=,e1,&sort=bogus&col=nope&col=params:lr&page=-3'));
    expect(parsed.experimentIds).toEqual(['e1']);
    expect(parsed.sort).toBeNull();
    expect(parsed.columns).toEqual(['params:lr']);
    expect(parsed.page).toBe(1);
  });

  it('goes back to page 1 when the filter or sort changes, not when selecting', () => {
    const onPage3 = { ...base, page: 3 };
    expect(updateRunsView(onPage3, { filter: 'metrics.acc > 1' }).page).toBe(1);
    expect(updateRunsView(onPage3, { sort: null }).page).toBe(1);
    expect(updateRunsView(onPage3, { selected: ['r1'] }).page).toBe(3);
  });
});

describe('header clicks cycle the sort', () => {
  const acc = { kind: 'metrics' as const, key: 'acc' };
  const lr = { kind: 'params' as const, key: 'lr' };
  it('metrics start descending (best first), then ascending, then unsorted', () => {
    const first = nextSort(null, acc);
    expect(first).toEqual({ column: acc, desc: true });
    const second = nextSort(first, acc);
    expect(second).toEqual({ column: acc, desc: false });
    expect(nextSort(second, acc)).toBeNull();
  });
  it('a lower-is-better metric sorts ascending first (best first)', () => {
    const loss = { kind: 'metrics.min' as const, key: 'val_loss' };
    const first = nextSort(null, loss);
    expect(first).toEqual({ column: loss, desc: false });
    expect(nextSort(first, loss)).toEqual({ column: loss, desc: true });
    expect(nextSort({ column: loss, desc: true }, loss)).toBeNull();
  });
  it('other columns start ascending; another column starts over', () => {
    expect(nextSort({ column: acc, desc: true }, lr)).toEqual({ column: lr, desc: false });
  });
});

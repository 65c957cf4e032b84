/**
 * Picks the table's columns from the keys the server reports for the shown experiments:
 * attributes, params, metrics (latest, min, max) and tags. Searchable, since real experiments
 * log hundreds of keys.
 */
import { useEffect, useRef, useState } from 'react';
import { ATTRIBUTE_COLUMNS, columnId, type ColumnKind } from './columns';

export interface ColumnChooserProps {
  selected: readonly string[];
  paramKeys: readonly string[];
  metricKeys: readonly string[];
  tagKeys: readonly string[];
  onChange: (columns: string[]) => void;
  onReset: () => void;
}

export function ColumnChooser({ selected, paramKeys, metricKeys, tagKeys, onChange, onReset }: ColumnChooserProps) {
  const [open, setOpen] = useState(false);
  const [search, setSearch] = useState('');
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return undefined;
    const close = (e: MouseEvent) => {
      if (panel.current && !panel.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    return () => document.removeEventListener('mousedown', close);
  }, [open]);

  const chosen = new Set(selected);
  const toggle = (id: string) =>
    onChange(chosen.has(id) ? selected.filter((s) => s !== id) : [...selected, id]);
  const needle = search.trim().toLowerCase();
  const matching = (label: string) => !needle || label.toLowerCase().includes(needle);

  const group = (title: string, items: Array<{ id: string; label: string }>) => {
    const shown = items.filter((i) => matching(i.label));
    if (shown.length === 0) return null;
    return (
      <fieldset className="column-group" key={title}>
        <legend>{title}</legend>
        {shown.map((i) => (
          <label key={i.id} className="checkbox-label">
            <input type="checkbox" checked={chosen.has(i.id)} onChange={() => toggle(i.id)} />
            {i.label}
          </label>
        ))}
      </fieldset>
    );
  };
  const keyed = (kind: ColumnKind, keys: readonly string[], suffix = '') =>
    keys.map((key) => ({ id: columnId({ kind, key }), label: `${key}${suffix}` }));

  return (
    <div className="column-chooser" ref={panel}>
      <button type="button" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        Columns ({selected.length})
      </button>
      {open ? (
        <div className="column-panel" role="dialog" aria-label="Choose columns">
          <div className="column-panel-head">
            <input
              type="search"
              placeholder="Search keys"
              aria-label="Search column keys"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              autoFocus
            />
            <button type="button" onClick={onReset}>
              Defaults
            </button>
          </div>
          <div className="column-panel-body">
            {group(
              'Attributes',
              ATTRIBUTE_COLUMNS.map((a) => ({ id: columnId({ kind: 'attributes', key: a.key }), label: a.label })),
            )}
            {group('Metrics (latest)', keyed('metrics', metricKeys))}
            {group('Metrics (min)', keyed('metrics.min', metricKeys, ' (min)'))}
            {group('Metrics (max)', keyed('metrics.max', metricKeys, ' (max)'))}
            {group('Params', keyed('params', paramKeys))}
            {group('Tags', keyed('tags', tagKeys))}
          </div>
        </div>
      ) : null}
    </div>
  );
}

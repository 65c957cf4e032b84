/**
 * The virtualized runs table: TanStack Table for the column model, TanStack Virtual so only
 * the rows in view are in the DOM (10,000 runs scroll like 50). Sorting is the server's
 * (`orderBy`); this component only reports header clicks. Nested runs are indented under
 * their parent with a toggle.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type ColumnSizingState,
  type Row,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { StatusBadge } from '../../components/ui/StatusBadge';
import { metricDirection } from '../../lib/metricDirection';
import { paths } from '../../lib/paths';
import { columnGroup, columnId, columnLabel, type ColumnSpec } from './columns';
import { cellText, type TreeRow } from './runRows';
import type { RunsViewState } from './viewState';

const ROW_HEIGHT = 32;

export interface RunsTableProps {
  rows: TreeRow[];
  /** Rows of the previous query, shown dimmed while the new one loads. */
  stale: boolean;
  columns: ColumnSpec[];
  sort: RunsViewState['sort'];
  onSort: (column: ColumnSpec) => void;
  selected: ReadonlySet<string>;
  onToggleSelected: (ids: string[], select: boolean) => void;
  expanded: ReadonlySet<string>;
  onToggleExpanded: (id: string) => void;
  experimentName: (id: string) => string;
  /** Called when the viewport nears the last loaded row. */
  onNearEnd: () => void;
  /** Row to scroll to once it is loaded (from the URL's page). */
  initialRow: number;
  onTopRowChange: (index: number) => void;
  footer: React.ReactNode;
  /** Flip which way is better for a metric column (remembered per key) and re-sort. */
  onFlipDirection?: (column: ColumnSpec) => void;
  /** Changing it scrolls back to the first row (e.g. after "show new runs"). */
  scrollToken?: number;
}

/** The selection and run-name columns stay in view when scrolling right. */
const PINNED_LEFT: Record<string, number> = { __select: 0, 'attributes:name': 36 };

function pinnedClass(id: string): string {
  return id in PINNED_LEFT ? ` pinned${id === 'attributes:name' ? ' pinned-last' : ''}` : '';
}

function pinnedStyle(id: string): React.CSSProperties | undefined {
  const left = PINNED_LEFT[id];
  return left === undefined ? undefined : { left };
}

const helper = createColumnHelper<TreeRow>();

/**
 * One table row. Memoised: while scrolling, rows already on screen only move (a new `start`),
 * so React re-renders just the rows entering the viewport instead of every visible cell.
 */
const RunRowView = memo(function RunRowView({ row, index, start, selected }: {
  row: Row<TreeRow>;
  index: number;
  start: number;
  selected: boolean;
  // Part of the props so a change of columns, selection or expansion re-renders the row.
  columnDefs: unknown;
}) {
  return (
    <div
      role="row"
      className={`tr${selected ? ' selected' : ''}${row.original.depth > 0 ? ' child' : ''}`}
      data-run-id={row.original.run.id}
      data-index={index}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT }}
    >
      {row.getVisibleCells().map((cell) => {
        const spec = (cell.column.columnDef.meta as { spec?: ColumnSpec } | undefined)?.spec;
        return (
          <div
            role="cell"
            key={cell.id}
            className={`td${spec && isNumeric(spec) ? ' num' : ''}${spec ? '' : ' col-check'}${pinnedClass(cell.column.id)}`}
            style={{ width: cell.column.getSize(), ...pinnedStyle(cell.column.id) }}
            data-column={cell.column.id}
          >
            {flexRender(cell.column.columnDef.cell, cell.getContext())}
          </div>
        );
      })}
    </div>
  );
});

function isNumeric(spec: ColumnSpec): boolean {
  return spec.kind.startsWith('metrics') || (spec.kind === 'attributes' && spec.key === 'duration');
}

function widthOf(spec: ColumnSpec): number {
  if (spec.kind === 'attributes') {
    switch (spec.key) {
      case 'name':
        return 260;
      case 'status':
        return 110;
      case 'start_time':
      case 'end_time':
        return 170;
      case 'id':
        return 280;
      default:
        return 130;
    }
  }
  return 130;
}

export function RunsTable(props: RunsTableProps) {
  const { rows, columns, sort, onSort, selected, onToggleSelected, expanded, onToggleExpanded, experimentName } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [columnSizing, setColumnSizing] = useState<ColumnSizingState>({});

  // The run name is pinned next to the selection column, wherever the chooser put it.
  const ordered = useMemo(() => {
    const name = columns.filter((c) => c.kind === 'attributes' && c.key === 'name');
    return [...name, ...columns.filter((c) => !(c.kind === 'attributes' && c.key === 'name'))];
  }, [columns]);

  const columnDefs = useMemo<Array<ColumnDef<TreeRow, unknown>>>(() => {
    const select = helper.display({
      id: '__select',
      size: 36,
      enableResizing: false,
      header: () => null,
      cell: ({ row }) => (
        <input
          type="checkbox"
          aria-label={`Select run ${row.original.run.name ?? row.original.run.id}`}
          checked={selected.has(row.original.run.id)}
          onChange={(e) => onToggleSelected([row.original.run.id], e.target.checked)}
        />
      ),
    });
    const data = ordered.map((spec) =>
      helper.display({
        id: columnId(spec),
        size: widthOf(spec),
        header: () => columnLabel(spec),
        meta: { spec },
        cell: ({ row }) => {
          const { run, depth, childCount } = row.original;
          if (spec.kind === 'attributes' && spec.key === 'name') {
            return (
              <span className="run-name-cell" style={{ paddingLeft: depth * 18 }}>
                {childCount > 0 ? (
                  <button
                    type="button"
                    className="tree-toggle"
                    aria-expanded={expanded.has(run.id)}
                    aria-label={`${expanded.has(run.id) ? 'Collapse' : 'Expand'} ${childCount} child runs`}
                    onClick={() => onToggleExpanded(run.id)}
                  >
                    {expanded.has(run.id) ? '▾' : '▸'} <span className="child-count">{childCount}</span>
                  </button>
                ) : depth > 0 ? (
                  <span className="tree-leaf" aria-hidden="true">
                    └
                  </span>
                ) : null}
                <Link to={paths.run(run.id)} className="run-link" title={run.id}>
                  {run.name || run.id.slice(0, 8)}
                </Link>
              </span>
            );
          }
          if (spec.kind === 'attributes' && spec.key === 'status') return <StatusBadge status={run.status} />;
          return cellText(run, spec, experimentName);
        },
      }),
    );
    return [select, ...data];
  }, [ordered, selected, expanded, onToggleSelected, onToggleExpanded, experimentName]);

  const table = useReactTable({
    data: rows,
    columns: columnDefs,
    getCoreRowModel: getCoreRowModel(),
    columnResizeMode: 'onChange',
    state: { columnSizing },
    onColumnSizingChange: setColumnSizing,
    defaultColumn: { minSize: 60, maxSize: 800 },
    manualSorting: true,
    getRowId: (r) => r.run.id,
  });
  const tableRows = table.getRowModel().rows;

  const virtualizer = useVirtualizer({
    count: tableRows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length > 0 ? (items[items.length - 1]?.index ?? 0) : 0;
  const firstIndex = items[0]?.index ?? 0;

  const { onNearEnd, onTopRowChange, initialRow } = props;
  useEffect(() => {
    if (tableRows.length > 0 && lastIndex >= tableRows.length - 40) onNearEnd();
  }, [lastIndex, tableRows.length, onNearEnd]);

  const { scrollToken } = props;
  useEffect(() => {
    if (scrollToken) scroller.current?.scrollTo({ top: 0 });
  }, [scrollToken]);

  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || initialRow <= 0) return;
    if (tableRows.length > initialRow) {
      restored.current = true;
      virtualizer.scrollToIndex(initialRow, { align: 'start' });
    }
  }, [tableRows.length, initialRow, virtualizer]);

  useEffect(() => {
    if (restored.current || initialRow <= 0) onTopRowChange(firstIndex);
  }, [firstIndex, initialRow, onTopRowChange]);

  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.run.id));
  const totalWidth = table.getTotalSize();

  return (
    <div
      className={`runs-table${props.stale ? ' is-stale' : ''}`}
      role="table"
      aria-rowcount={rows.length}
      aria-busy={props.stale}
      data-testid="runs-table"
      data-stale={props.stale ? 'true' : 'false'}
    >
      <div className="table-scroll" ref={scroller}>
        <div style={{ width: totalWidth, minWidth: '100%' }}>
          <div className="thead" role="rowgroup">
            {table.getHeaderGroups().map((hg) => (
              <div className="tr" role="row" key={hg.id}>
                {hg.headers.map((header) => {
                  const spec = (header.column.columnDef.meta as { spec?: ColumnSpec } | undefined)?.spec;
                  if (!spec) {
                    return (
                      <div
                        className={`th col-check${pinnedClass(header.id)}`}
                        role="columnheader"
                        key={header.id}
                        style={{ width: header.getSize(), ...pinnedStyle(header.id) }}
                      >
                        <input
                          type="checkbox"
                          aria-label="Select all loaded runs"
                          checked={allSelected}
                          onChange={(e) => onToggleSelected(rows.map((r) => r.run.id), e.target.checked)}
                        />
                      </div>
                    );
                  }
                  const active = sort && sort.column.kind === spec.kind && sort.column.key === spec.key;
                  const group = columnGroup(spec);
                  const isMetric = spec.kind.startsWith('metrics');
                  const direction = isMetric ? metricDirection(spec.key) : null;
                  const label = columnLabel(spec);
                  return (
                    <div
                      key={header.id}
                      role="columnheader"
                      aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                      className={`th${isNumeric(spec) ? ' num' : ''}${active ? ' sorted' : ''}${pinnedClass(header.id)}`}
                      style={{ width: header.getSize(), ...pinnedStyle(header.id) }}
                      data-column={header.id}
                    >
                      <button
                        type="button"
                        className="sort-button"
                        onClick={() => onSort(spec)}
                        title={`${group ? `${group}: ` : ''}${label}${isMetric ? ` — first click sorts best first (${direction} is better)` : ''}`}
                      >
                        {group ? <span className="col-group">{group}</span> : null}
                        <span className="col-label">{flexRender(header.column.columnDef.header, header.getContext())}</span>
                        {active ? <span className="sort-indicator">{sort.desc ? '▼' : '▲'}</span> : null}
                      </button>
                      {active && isMetric && props.onFlipDirection ? (
                        <button
                          type="button"
                          className="direction-toggle"
                          data-testid="direction-toggle"
                          onClick={() => props.onFlipDirection?.(spec)}
                          title={`${direction === 'lower' ? 'Lower' : 'Higher'} is better for ${spec.key}; click to change (remembered)`}
                        >
                          {direction === 'lower' ? 'low↑' : 'high↑'}
                        </button>
                      ) : null}
                      {header.column.getCanResize() ? (
                        <div
                          className={`col-resizer${header.column.getIsResizing() ? ' resizing' : ''}`}
                          onMouseDown={header.getResizeHandler()}
                          onTouchStart={header.getResizeHandler()}
                          onDoubleClick={() => header.column.resetSize()}
                          role="separator"
                          aria-orientation="vertical"
                          aria-label={`Resize ${label}`}
                        />
                      ) : null}
                    </div>
                  );
                })}
              </div>
            ))}
          </div>
          <div className="tbody" role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {items.map((item) => {
              const row = tableRows[item.index];
              if (!row) return null;
              return (
                <RunRowView
                  key={row.id}
                  row={row}
                  index={item.index}
                  start={item.start}
                  selected={selected.has(row.original.run.id)}
                  columnDefs={columnDefs}
                />
              );
            })}
          </div>
        </div>
      </div>
      <div className="table-footer">{props.footer}</div>
    </div>
  );
}

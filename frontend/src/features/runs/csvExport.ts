/**
 * CSV of the current runs view (RFC 4180 quoting). Timestamps are written as ISO-8601 and
 * metric values at full precision, so the file is data rather than a picture of the table.
 */
import { columnGroup, columnLabel, type ColumnSpec } from './columns';
import { cellValue, type RunRow } from './runRows';

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runsToCsv(
  runs: readonly RunRow[],
  columns: readonly ColumnSpec[],
  experimentName?: (id: string) => string,
): string {
  const header = ['run_id', ...columns.map((c) => (columnGroup(c) ? `${columnGroup(c).toLowerCase()}.${columnLabel(c)}` : columnLabel(c)))];
  const lines = [header.map(csvField).join(',')];
  for (const run of runs) {
    const fields: string[] = [csvField(run.id)];
    for (const c of columns) {
      let v = cellValue(run, c, experimentName);
      if (c.kind === 'attributes' && (c.key === 'start_time' || c.key === 'end_time') && typeof v === 'number') {
        v = new Date(v).toISOString();
      }
      fields.push(csvField(v));
    }
    lines.push(fields.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

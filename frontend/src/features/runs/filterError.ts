/**
 * Locates a search-language error in the filter text. The server reports positions as
 * `line L, column C: …` (1-based); the filter box draws a caret there.
 */

export interface FilterErrorLocation {
  line: number;
  column: number;
  /** The message without its position prefix. */
  detail: string;
}

export function locateFilterError(message: string): FilterErrorLocation | null {
  const m = /line (\d+),\s*column (\d+)(?::\s*)?/i.exec(message);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  const line = Number(m[1]);
  const column = Number(m[2]);
  if (!(line >= 1 && column >= 1)) return null;
  const detail = (message.slice(0, m.index) + message.slice(m.index + m[0].length)).trim().replace(/^[:,-]\s*/, '');
  return { line, column, detail: detail || message };
}

/** The line of the filter the error points into, and the caret offset within it (0-based). */
export function errorLineAndCaret(filter: string, loc: FilterErrorLocation): { text: string; caret: number } {
  const lines = filter.split('\n');
  const text = lines[Math.min(loc.line, lines.length) - 1] ?? '';
  return { text, caret: Math.min(loc.column - 1, text.length) };
}

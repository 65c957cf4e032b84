/**
 * What an artifact preview needs: which kind of preview suits a file, reading only the head
 * of a large file (a Range request, and a hard stop if the server sends more), and turning the
 * head of a CSV into rows.
 */

export type PreviewKind = 'image' | 'json' | 'markdown' | 'csv' | 'text' | 'none';

/** Text previews stop here; the rest of the file is a download. */
export const TEXT_PREVIEW_BYTES = 256 * 1024;
export const CSV_PREVIEW_BYTES = 64 * 1024;
export const CSV_PREVIEW_ROWS = 50;
/** Images larger than this are not inlined. */
export const IMAGE_PREVIEW_BYTES = 20 * 1024 * 1024;

const TEXT_EXTENSIONS = new Set([
  'txt', 'log', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'py', 'sh', 'js', 'ts', 'sql', 'xml', 'html',
  'mlmodel', 'requirements', 'env', 'jsonl', 'ndjson', 'r', 'ipynb', 'pbtxt', 'proto',
]);
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'svg', 'bmp', 'avif']);

function extension(path: string): string {
  const name = path.split('/').pop() ?? '';
  if (name === 'MLmodel' || name === 'MLTRAIL' || name === 'Dockerfile') return 'txt';
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot + 1).toLowerCase() : '';
}

export function previewKind(path: string, contentType?: string | null): PreviewKind {
  const ext = extension(path);
  const type = (contentType ?? '').toLowerCase().split(';')[0]?.trim() ?? '';
  if (IMAGE_EXTENSIONS.has(ext) || type.startsWith('image/')) return 'image';
  if (ext === 'json' || type === 'application/json') return 'json';
  if (ext === 'md' || ext === 'markdown' || type === 'text/markdown') return 'markdown';
  if (ext === 'csv' || ext === 'tsv' || type === 'text/csv' || type === 'text/tab-separated-values') return 'csv';
  if (TEXT_EXTENSIONS.has(ext) || type.startsWith('text/') || type.endsWith('+json') || type.endsWith('yaml')) return 'text';
  return 'none';
}

export interface Head {
  text: string;
  /** True when the file continues past what was read. */
  truncated: boolean;
}

/**
 * Reads at most `limit` bytes of a URL. Asks for a byte range; if the server answers 200 with the
 * whole file, the body is cancelled after `limit` bytes.
 */
export async function fetchHead(url: string, limit: number, knownSize: number | null, signal?: AbortSignal): Promise<Head> {
  const response = await fetch(url, { headers: { Range: `bytes=0-${limit - 1}` }, signal });
  if (!response.ok) {
    const detail = (await response.text().catch(() => '')).slice(0, 300);
    throw new Error(`HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
  }
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  if (reader) {
    while (received < limit) {
      const { done, value } = await reader.read();
      if (done || !value) break;
      chunks.push(value);
      received += value.length;
    }
    await reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(received, limit));
  let offset = 0;
  for (const c of chunks) {
    const part = c.subarray(0, Math.min(c.length, bytes.length - offset));
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  const total = totalSize(response, knownSize);
  const truncated = total !== null ? total > bytes.length : received >= limit;
  // A cut in the middle of a multi-byte character decodes as U+FFFD, not an exception.
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(bytes), truncated };
}

function totalSize(response: Response, knownSize: number | null): number | null {
  const range = response.headers.get('Content-Range');
  const m = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (m) return Number(m[1]);
  if (knownSize !== null) return knownSize;
  const length = response.headers.get('Content-Length');
  return response.status === 200 && length ? Number(length) : null;
}

/**
 * Parses the head of a CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes).
 * A truncated last line is dropped rather than shown half.
 */
export function parseCsvHead(text: string, maxRows: number, truncated: boolean, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    rows.push(row);
    row = [];
    field = '';
  };
  while (i < text.length && rows.length < maxRows) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field.length === 0) {
      quoted = true;
    } else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      endRow();
    } else field += ch;
    i += 1;
  }
  const atEnd = i >= text.length;
  if (rows.length < maxRows && atEnd && (field.length > 0 || row.length > 0) && !truncated) endRow();
  return rows;
}

export function prettyJson(text: string, complete: boolean): string {
  if (!complete) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

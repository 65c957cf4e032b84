/**
 * Preview of one artifact: images inline, text/JSON/YAML/Markdown up to a size cap, the head
 * of a CSV as a table; always with a download link for the whole file.
 */
import { useEffect, useState } from 'react';
import { Loading, ErrorMessage } from '../../components/ui/QueryStates';
import { formatBytes } from '../../lib/format';
import { paths } from '../../lib/paths';
import {
  CSV_PREVIEW_BYTES,
  CSV_PREVIEW_ROWS,
  fetchHead,
  IMAGE_PREVIEW_BYTES,
  parseCsvHead,
  prettyJson,
  previewKind,
  TEXT_PREVIEW_BYTES,
  type Head,
} from './artifactPreview';
import { Markdown } from '../../components/ui/Markdown';

export interface ArtifactPreviewProps {
  runId: string;
  path: string;
  size: number | null;
  contentType: string | null;
}

export function ArtifactPreview({ runId, path, size, contentType }: ArtifactPreviewProps) {
  const url = paths.artifact(runId, path);
  const kind = previewKind(path, contentType);
  const name = path.split('/').pop() ?? path;
  return (
    <div className="artifact-preview" data-testid="artifact-preview" data-kind={kind}>
      <div className="preview-head">
        <h3 className="mono">{name}</h3>
        <span className="muted">
          {formatBytes(size)} {contentType ? `· ${contentType}` : ''}
        </span>
        <a className="button" href={url} download={name} data-testid="artifact-download">
          Download
        </a>
      </div>
      {kind === 'image' ? (
        size !== null && size > IMAGE_PREVIEW_BYTES ? (
          <p className="muted">This image is {formatBytes(size)}; download it to view.</p>
        ) : (
          <img className="preview-image" src={url} alt={name} />
        )
      ) : kind === 'none' ? (
        <p className="muted">No preview for this file type.</p>
      ) : (
        <TextPreview url={url} size={size} kind={kind} />
      )}
    </div>
  );
}

function TextPreview({ url, size, kind }: { url: string; size: number | null; kind: 'json' | 'markdown' | 'csv' | 'text' }) {
  const limit = kind === 'csv' ? CSV_PREVIEW_BYTES : TEXT_PREVIEW_BYTES;
  const [state, setState] = useState<{ url: string; head: Head | null; error: string | null }>({ url, head: null, error: null });
  useEffect(() => {
    const abort = new AbortController();
    setState({ url, head: null, error: null });
    fetchHead(url, limit, size, abort.signal).then(
      (head) => setState({ url, head, error: null }),
      (e: unknown) => {
        if (!abort.signal.aborted) setState({ url, head: null, error: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => abort.abort();
  }, [url, limit, size]);

  if (state.error) return <ErrorMessage error={state.error} title="Could not read this artifact" />;
  if (!state.head || state.url !== url) return <Loading label="Reading…" />;
  const { text, truncated } = state.head;
  const note = truncated ? (
    <p className="muted preview-note">Showing the first {formatBytes(limit)}{size !== null ? ` of ${formatBytes(size)}` : ''}; download for the rest.</p>
  ) : null;

  if (kind === 'csv') {
    const rows = parseCsvHead(text, CSV_PREVIEW_ROWS + 1, truncated, url.toLowerCase().endsWith('.tsv') ? '\t' : ',');
    const [header, ...body] = rows;
    if (!header) return <p className="muted">This file is empty.</p>;
    return (
      <div className="csv-preview">
        <table className="data-table compact" data-testid="csv-preview">
          <thead>
            <tr>
              {header.map((h, i) => (
                <th key={i}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {body.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j}>{c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted preview-note">
          First {body.length} row{body.length === 1 ? '' : 's'}
          {truncated || body.length >= CSV_PREVIEW_ROWS ? '; download for the whole file' : ''}.
        </p>
      </div>
    );
  }
  if (kind === 'markdown') {
    return (
      <div className="markdown-preview" data-testid="markdown-preview">
        <Markdown source={text} />
        {note}
      </div>
    );
  }
  return (
    <div>
      <pre className="text-preview" data-testid="text-preview">
        {kind === 'json' ? prettyJson(text, !truncated) : text}
      </pre>
      {note}
    </div>
  );
}

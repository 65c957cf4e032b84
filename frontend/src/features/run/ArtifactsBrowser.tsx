/**
 * Browses a run's artifact tree one directory at a time (`Run.artifacts(path)`), with the
 * directory and the previewed file in the URL. Bytes come over plain HTTP
 * (`/api/artifacts/{runId}/{path}`), never through GraphQL.
 */
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatBytes, formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';
import { ArtifactPreview } from './ArtifactPreview';
import { useArtifactListing } from './useArtifactListing';

export interface ArtifactsBrowserProps {
  runId: string;
  dir: string;
  file: string | null;
  onNavigate: (dir: string, file: string | null) => void;
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export function ArtifactsBrowser({ runId, dir, file, onNavigate }: ArtifactsBrowserProps) {
  const { available, entries: listed, fetching, error, retry } = useArtifactListing(runId, dir);
  const entries = [...listed].sort(
    (a, b) => Number(b.isDir) - Number(a.isDir) || a.path.localeCompare(b.path),
  );
  const selected = file ? entries.find((e) => e.path === file) : undefined;
  const crumbs = dir ? dir.split('/').filter(Boolean) : [];

  return (
    <div className="artifacts-view">
      <div className="panel artifact-list">
        <nav className="breadcrumbs artifact-crumbs" aria-label="Artifact path">
          <button type="button" className="link-button" onClick={() => onNavigate('', null)}>
            artifacts
          </button>
          {crumbs.map((c, i) => (
            <span key={i}>
              {' / '}
              <button type="button" className="link-button" onClick={() => onNavigate(crumbs.slice(0, i + 1).join('/'), null)}>
                {c}
              </button>
            </span>
          ))}
        </nav>
        {!available ? (
          <Empty>This server cannot list artifacts yet (its schema has no Run.artifacts).</Empty>
        ) : error ? (
          <ErrorMessage error={error} title="Could not list artifacts" onRetry={retry} />
        ) : fetching && entries.length === 0 ? (
          <Loading label="Listing artifacts…" />
        ) : entries.length === 0 ? (
          <Empty>{dir ? 'This directory is empty.' : 'This run has no artifacts.'}</Empty>
        ) : (
          <table className="data-table compact" data-testid="artifact-entries">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Size</th>
                <th>Modified</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.path} className={e.path === file ? 'selected' : undefined}>
                  <td>
                    <button
                      type="button"
                      className="link-button artifact-entry"
                      data-path={e.path}
                      onClick={() => (e.isDir ? onNavigate(e.path, null) : onNavigate(dir, e.path))}
                    >
                      <span className={e.isDir ? 'entry-icon entry-dir' : 'entry-icon entry-file'} aria-hidden="true" />
                      {baseName(e.path)}
                      {e.isDir ? '/' : ''}
                    </button>
                  </td>
                  <td className="num">{e.isDir ? '' : formatBytes(e.size)}</td>
                  <td>{formatTimestamp(e.modifiedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="panel artifact-detail">
        {file ? (
          <ArtifactPreview
            key={file}
            runId={runId}
            path={file}
            size={selected?.size ?? null}
            contentType={selected?.contentType ?? null}
          />
        ) : (
          <p className="muted">Select a file to preview it. Everything can be downloaded, e.g. {paths.artifact(runId, 'path/to/file')}.</p>
        )}
      </div>
    </div>
  );
}

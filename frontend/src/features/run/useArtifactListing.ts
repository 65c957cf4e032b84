/**
 * One directory of a run's artifacts, from `Run.artifacts(path)`.
 *
 * The served schema does not have `Run.artifacts` yet (issue 4 adds it), and an operation
 * naming a missing field fails codegen by design. Until it lands this reports the listing as
 * unavailable; the query to put here then is:
 *
 *   query RunArtifacts($id: ID!, $path: String) {
 *     run(id: $id) { id artifacts(path: $path) { path isDir size modifiedAt contentType } }
 *   }
 */
import type { CombinedError } from 'urql';

export interface ArtifactListEntry {
  path: string;
  isDir: boolean;
  size?: number | null;
  modifiedAt?: number | null;
  contentType?: string | null;
}

export interface ArtifactListing {
  available: boolean;
  entries: ArtifactListEntry[];
  fetching: boolean;
  error: CombinedError | null;
  retry: () => void;
}

export function useArtifactListing(_runId: string, _dir: string): ArtifactListing {
  return { available: false, entries: [], fetching: false, error: null, retry: () => undefined };
}

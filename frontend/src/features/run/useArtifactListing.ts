/** One directory of a run's artifacts, from `Run.artifacts(path)` (directories first). */
import { useQuery, type CombinedError } from 'urql';
import { graphql } from '../../graphql/generated';
import { optionalLongToNumber } from '../../graphql/longs';

const RunArtifactsQuery = graphql(`
  query RunArtifacts($id: ID!, $path: String) {
    run(id: $id) {
      id
      artifacts(path: $path) {
        path
        isDir
        size
        modifiedAt
        contentType
      }
    }
  }
`);

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

export function useArtifactListing(runId: string, dir: string): ArtifactListing {
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: RunArtifactsQuery,
    variables: { id: runId, path: dir || null },
    requestPolicy: 'cache-and-network',
  });
  return {
    available: true,
    entries: (data?.run?.artifacts ?? []).map((a) => ({
      ...a,
      size: optionalLongToNumber(a.size),
      modifiedAt: optionalLongToNumber(a.modifiedAt),
    })),
    fetching,
    error: error ?? null,
    retry: () => reexecute({ requestPolicy: 'network-only' }),
  };
}

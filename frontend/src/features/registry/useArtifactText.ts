/**
 * Reads a small text artifact (MLmodel, input_example.json, requirements.txt) through the
 * artifact GET route. A missing file is `null`, not an error: older or non-mltrail model
 * directories may lack an input example.
 */
import { useEffect, useState } from 'react';
import { paths } from '../../lib/paths';

// Model metadata files are small; anything bigger is not what we are looking for.
const MAX_BYTES = 256 * 1024;

export type ArtifactText = { state: 'loading' } | { state: 'missing' } | { state: 'error'; message: string } | { state: 'ok'; text: string; truncated: boolean };

export function useArtifactText(runId: string | null, path: string | null): ArtifactText {
  const [result, setResult] = useState<ArtifactText>({ state: 'loading' });
  useEffect(() => {
    if (!runId || !path) {
      setResult({ state: 'missing' });
      return undefined;
    }
    const ctrl = new AbortController();
    setResult({ state: 'loading' });
    fetch(paths.artifact(runId, path), { signal: ctrl.signal })
      .then(async (r) => {
        if (r.status === 404) return setResult({ state: 'missing' });
        if (!r.ok) return setResult({ state: 'error', message: `HTTP ${r.status}` });
        const text = await r.text();
        setResult({ state: 'ok', text: text.slice(0, MAX_BYTES), truncated: text.length > MAX_BYTES });
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setResult({ state: 'error', message: String(e) });
      });
    return () => ctrl.abort();
  }, [runId, path]);
  return result;
}

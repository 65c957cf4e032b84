/**
 * A local mirror of a value kept in the URL, for controlled inputs. The router applies URL
 * changes in a React transition, so an input whose value came straight from the URL would
 * briefly show the old value after each keystroke or click (lost characters, a checkbox that
 * flickers). The input shows the local value at once; the URL follows; and a URL change from
 * elsewhere (back button, a shared link) resets the local value.
 */
import { useCallback, useEffect, useState } from 'react';

export function useUrlMirror<T>(urlValue: T, commit: (value: T) => void): [T, (value: T) => void] {
  const [local, setLocal] = useState(urlValue);
  useEffect(() => setLocal(urlValue), [urlValue]);
  const set = useCallback(
    (value: T) => {
      setLocal(value);
      commit(value);
    },
    [commit],
  );
  return [local, set];
}

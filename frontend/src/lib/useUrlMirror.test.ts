import { describe, expect, it, vi } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { useUrlMirror } from './useUrlMirror';

describe('useUrlMirror', () => {
  it('shows a change at once and commits it to the URL', () => {
    const commit = vi.fn();
    const { result } = renderHook(({ url }) => useUrlMirror(url, commit), { initialProps: { url: 'a' } });
    act(() => result.current[1]('ab'));
    expect(result.current[0]).toBe('ab');
    expect(commit).toHaveBeenCalledWith('ab');
  });

  it('follows the URL when it changes from elsewhere (back button, shared link)', () => {
    const { result, rerender } = renderHook(({ url }) => useUrlMirror(url, () => undefined), {
      initialProps: { url: 'x' },
    });
    act(() => result.current[1]('typed'));
    rerender({ url: 'from-link' });
    expect(result.current[0]).toBe('from-link');
  });
});

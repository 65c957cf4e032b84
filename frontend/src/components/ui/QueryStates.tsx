/**
 * Loading, empty and error states, shared so that every view says the same thing the same
 * way — and a GraphQL error always shows the server's message instead of a blank page.
 */
import type { ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { apiErrors } from '../../graphql/errors';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function ErrorMessage({ error, title = 'Something went wrong', onRetry }: {
  error: CombinedError | string;
  title?: string;
  onRetry?: () => void;
}) {
  const errors = typeof error === 'string' ? [{ message: error, code: null }] : apiErrors(error);
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong>
      {errors.map((e, i) => (
        <p key={i} className="error-message">
          {e.code ? <code className="error-code">{e.code}</code> : null} {e.message}
        </p>
      ))}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

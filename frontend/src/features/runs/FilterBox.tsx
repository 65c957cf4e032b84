/**
 * The search-language filter box. The applied filter lives in the URL; the text being typed is
 * local until Enter. When the server rejects a filter, its message is shown under the box with
 * a caret at the line and column it reports, and the cursor is put there.
 */
import { useEffect, useRef, useState } from 'react';
import { errorLineAndCaret, locateFilterError } from './filterError';

export interface FilterBoxProps {
  value: string;
  /** The server's message for a rejected filter, or null. */
  errorMessage: string | null;
  onApply: (filter: string) => void;
}

export function FilterBox({ value, errorMessage, onApply }: FilterBoxProps) {
  const [draft, setDraft] = useState(value);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setDraft(value), [value]);

  const location = errorMessage ? locateFilterError(errorMessage) : null;

  useEffect(() => {
    if (!location || !input.current) return;
    const start = Math.min(location.column - 1, value.length);
    input.current.focus();
    input.current.setSelectionRange(start, Math.min(start + 1, value.length));
  }, [location?.line, location?.column, value]); // eslint-disable-line react-hooks/exhaustive-deps

  const caret = location ? errorLineAndCaret(value, location) : null;

  return (
    <form
      className={`filter-box${errorMessage ? ' has-error' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft.trim());
      }}
    >
      <div className="filter-row">
        <input
          ref={input}
          type="text"
          className="filter-input"
          aria-label="Filter runs"
          aria-invalid={errorMessage ? true : undefined}
          aria-describedby={errorMessage ? 'filter-error' : undefined}
          spellCheck={false}
          placeholder="metrics.acc > 0.9 and params.model = 'rf' and attributes.status = 'FINISHED'"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit">Apply</button>
        {value ? (
          <button
            type="button"
            onClick={() => {
              setDraft('');
              onApply('');
            }}
          >
            Clear
          </button>
        ) : null}
      </div>
      {errorMessage ? (
        <div id="filter-error" className="filter-error" role="alert" data-testid="filter-error">
          {caret ? (
            <pre className="filter-error-caret" aria-hidden="true">
              {caret.text}
              {'\n'}
              {' '.repeat(caret.caret)}^
            </pre>
          ) : null}
          <span>{errorMessage}</span>
        </div>
      ) : null}
    </form>
  );
}

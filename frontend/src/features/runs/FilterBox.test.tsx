import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { FilterBox } from './FilterBox';

afterEach(cleanup);

describe('FilterBox', () => {
  it('shows the server message with a caret under the reported column', () => {
    render(
      <FilterBox value="metrics.acc > " errorMessage="line 1, column 15: expected a value after '>'" onApply={() => {}} />,
    );
    const error = screen.getByTestId('filter-error');
    expect(error.textContent).toContain("expected a value after '>'");
    const caret = error.querySelector('pre')?.textContent ?? '';
    expect(caret.split('\n')[1]).toBe(`${' '.repeat(14)}^`);
    expect(screen.getByLabelText('Filter runs').getAttribute('aria-invalid')).toBe('true');
  });

  it('applies the typed filter on Enter, trimmed', () => {
    const onApply = vi.fn();
    render(<FilterBox value="" errorMessage={null} onApply={onApply} />);
    const input = screen.getByLabelText('Filter runs');
    fireEvent.change(input, { target: { value: "  params.model = 'rf' " } });
    fireEvent.submit(input.closest('form') as HTMLFormElement);
    expect(onApply).toHaveBeenCalledWith("params.model = 'rf'");
    expect(screen.queryByTestId('filter-error')).toBeNull();
  });
});

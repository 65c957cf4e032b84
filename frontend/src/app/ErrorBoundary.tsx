/** Catches render errors so a bug in one view shows a message instead of a blank page. */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('mltrail view crashed', error, info.componentStack);
  }

  override render() {
    if (this.state.error) {
      return (
        <div className="state state-error" role="alert">
          <strong>This view failed to render</strong>
          <p className="error-message">{this.state.error.message}</p>
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}

/**
 * The "live" badge of views that follow subscriptions: green while the socket is up, amber
 * while it reconnects (with backoff), grey when nothing on the page is live.
 */
import { useLiveConnection } from '../../graphql/liveConnection';

export function LiveIndicator({ active }: { active: boolean }) {
  const { state, retries } = useLiveConnection();
  const shown = !active ? 'paused' : state === 'live' ? 'live' : state === 'idle' || state === 'connecting' ? 'connecting' : 'reconnecting';
  const label =
    shown === 'live'
      ? 'Live'
      : shown === 'paused'
        ? 'Not live'
        : shown === 'connecting'
          ? 'Connecting…'
          : `Reconnecting${retries > 1 ? ` (attempt ${retries})` : ''}…`;
  const title =
    shown === 'live'
      ? 'Updates arrive as they are logged (subscription open)'
      : shown === 'paused'
        ? 'Nothing shown here is running'
        : 'The live connection was lost; reconnecting, then fetching what was missed';
  return (
    <span className={`live-indicator live-${shown}`} data-testid="live-indicator" data-state={shown} title={title} role="status">
      <span className="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

/** A run's status as a coloured badge (RUNNING pulses, so live runs stand out in a long table). */

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`status-badge status-${status.toLowerCase()}`} data-status={status}>
      {status.charAt(0) + status.slice(1).toLowerCase()}
    </span>
  );
}

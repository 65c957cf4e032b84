/** Params or tags of a run as a two-column table, filtered by the page's search. */

export function matchesKeyValue(entry: { key: string; value: string }, search: string): boolean {
  const needle = search.trim().toLowerCase();
  return !needle || entry.key.toLowerCase().includes(needle) || entry.value.toLowerCase().includes(needle);
}

export function KeyValueTable({ title, entries, search }: {
  title: string;
  entries: ReadonlyArray<{ key: string; value: string }>;
  search: string;
}) {
  const shown = entries.filter((e) => matchesKeyValue(e, search)).sort((a, b) => a.key.localeCompare(b.key));
  return (
    <div className="kv-section" data-testid={`kv-${title.toLowerCase()}`}>
      <h3>
        {title} <span className="muted">({search ? `${shown.length} of ${entries.length}` : entries.length})</span>
      </h3>
      {entries.length === 0 ? (
        <p className="muted">No {title.toLowerCase()} logged.</p>
      ) : shown.length === 0 ? (
        <p className="muted">No {title.toLowerCase()} match “{search}”.</p>
      ) : (
        <table className="data-table compact kv-table">
          <tbody>
            {shown.map((e) => (
              <tr key={e.key}>
                <th scope="row" className="mono">
                  {e.key}
                </th>
                <td className="mono">{e.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

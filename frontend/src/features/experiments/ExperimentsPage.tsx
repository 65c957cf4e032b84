/**
 * Experiments: the list with run counts and last activity, search, create, rename,
 * delete and restore; pick one or several to open their runs table.
 * URL state: q (search), deleted=1 (include deleted), sel (experiments picked for a joint table).
 */
import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../graphql/generated';
import { apiErrorMessage } from '../../graphql/errors';
import { Empty, ErrorMessage, Loading } from '../../components/ui/QueryStates';
import { formatRelative, formatTimestamp } from '../../lib/format';
import { paths } from '../../lib/paths';
import { readList, writeList, writeString } from '../../lib/searchParams';
import { useUrlMirror } from '../../lib/useUrlMirror';
import { matchesSearch } from './search';
import { longToNumber, optionalLongToNumber } from '../../graphql/longs';

const ExperimentsListQuery = graphql(`
  query ExperimentsList($includeDeleted: Boolean!, $first: Int, $after: String) {
    experiments(includeDeleted: $includeDeleted, first: $first, after: $after) {
      totalCount
      pageInfo {
        endCursor
        hasNextPage
      }
      nodes {
        id
        name
        description
        runCount
        lastActivity
        createdAt
        deleted
      }
    }
  }
`);

const CreateExperimentMutation = graphql(`
  mutation CreateExperiment($name: String!, $description: String) {
    createExperiment(name: $name, description: $description) {
      id
      name
    }
  }
`);

const RenameExperimentMutation = graphql(`
  mutation RenameExperiment($id: ID!, $name: String) {
    updateExperiment(id: $id, name: $name) {
      id
      name
    }
  }
`);

const DeleteExperimentMutation = graphql(`
  mutation DeleteExperiment($id: ID!) {
    deleteExperiment(id: $id) {
      id
      deleted
    }
  }
`);

const RestoreExperimentMutation = graphql(`
  mutation RestoreExperiment($id: ID!) {
    restoreExperiment(id: $id) {
      id
      deleted
    }
  }
`);

const LIST_SIZE = 1000;

export function ExperimentsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const update = (change: (p: URLSearchParams) => void) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        change(next);
        return next;
      },
      { replace: true },
    );
  };
  const [search, setSearch] = useUrlMirror(params.get('q') ?? '', (q) => update((p) => writeString(p, 'q', q)));
  const [includeDeleted, setIncludeDeleted] = useUrlMirror(params.get('deleted') === '1', (on) =>
    update((p) => writeString(p, 'deleted', on ? '1' : '')),
  );
  const selected = readList(params, 'sel');

  const [{ data, fetching, error }, reexecute] = useQuery({
    query: ExperimentsListQuery,
    variables: { includeDeleted, first: LIST_SIZE },
    requestPolicy: 'cache-and-network',
  });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });

  const [actionError, setActionError] = useState<string | null>(null);
  const [, createExperiment] = useMutation(CreateExperimentMutation);
  const [, renameExperiment] = useMutation(RenameExperimentMutation);
  const [, deleteExperiment] = useMutation(DeleteExperimentMutation);
  const [, restoreExperiment] = useMutation(RestoreExperimentMutation);

  const nodes = data?.experiments.nodes;
  const experiments = useMemo(
    () =>
      (nodes ?? []).map((e) => ({
        ...e,
        createdAt: longToNumber(e.createdAt),
        lastActivity: optionalLongToNumber(e.lastActivity),
      })),
    [nodes],
  );
  const visible = useMemo(() => experiments.filter((e) => matchesSearch(e, search)), [experiments, search]);

  const run = async (action: () => Promise<{ error?: Parameters<typeof apiErrorMessage>[0] }>) => {
    setActionError(null);
    const result = await action();
    if (result.error) setActionError(apiErrorMessage(result.error));
    else refresh();
    return !result.error;
  };

  const toggleSelected = (id: string) =>
    update((p) => writeList(p, 'sel', selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id]));

  return (
    <section className="page experiments-page">
      <div className="page-header">
        <h1>Experiments</h1>
        <CreateExperimentForm
          onCreate={(name, description) =>
            run(() => createExperiment({ name, description: description || null }))
          }
        />
      </div>
      <div className="toolbar">
        <input
          type="search"
          className="search-input"
          placeholder="Search experiments by name or description"
          aria-label="Search experiments"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <label className="checkbox-label">
          <input
            type="checkbox"
            checked={includeDeleted}
            onChange={(e) => setIncludeDeleted(e.target.checked)}
          />
          Show deleted
        </label>
        <button
          type="button"
          disabled={selected.length === 0}
          onClick={() => navigate(paths.runs(selected))}
          title="Open one runs table for the selected experiments"
        >
          Open runs of {selected.length || 'selected'} experiment{selected.length === 1 ? '' : 's'}
        </button>
      </div>
      {actionError ? <ErrorMessage error={actionError} title="The change was not made" /> : null}
      {error ? (
        <ErrorMessage error={error} title="Could not load experiments" onRetry={refresh} />
      ) : fetching && !data ? (
        <Loading label="Loading experiments…" />
      ) : experiments.length === 0 ? (
        <Empty>
          <p>No experiments yet. Create one above, or log a run from Python:</p>
          <pre>{`import mltrail\nmltrail.set_experiment("my-experiment")\nwith mltrail.start_run():\n    mltrail.log_metric("loss", 0.1)`}</pre>
        </Empty>
      ) : visible.length === 0 ? (
        <Empty>No experiment matches “{search}”.</Empty>
      ) : (
        <table className="data-table experiments-table">
          <thead>
            <tr>
              <th className="col-check" aria-label="Select" />
              <th>Name</th>
              <th>Description</th>
              <th className="num">Runs</th>
              <th>Last activity</th>
              <th>Created</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {visible.map((e) => (
              <ExperimentRow
                key={e.id}
                experiment={e}
                selected={selected.includes(e.id)}
                onToggle={() => toggleSelected(e.id)}
                onRename={(name) => run(() => renameExperiment({ id: e.id, name }))}
                onDelete={() => run(() => deleteExperiment({ id: e.id }))}
                onRestore={() => run(() => restoreExperiment({ id: e.id }))}
              />
            ))}
          </tbody>
        </table>
      )}
      {data && data.experiments.pageInfo.hasNextPage ? (
        <p className="hint">
          Showing the first {experiments.length} of {data.experiments.totalCount} experiments; refine the search.
        </p>
      ) : null}
    </section>
  );
}

interface ExperimentRowProps {
  experiment: {
    id: string;
    name: string;
    description?: string | null;
    runCount: number;
    lastActivity?: number | null;
    createdAt: number;
    deleted: boolean;
  };
  selected: boolean;
  onToggle: () => void;
  onRename: (name: string) => Promise<boolean>;
  onDelete: () => Promise<boolean>;
  onRestore: () => Promise<boolean>;
}

function ExperimentRow({ experiment: e, selected, onToggle, onRename, onDelete, onRestore }: ExperimentRowProps) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(e.name);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    if (name.trim() && name.trim() !== e.name) {
      if (await onRename(name.trim())) setRenaming(false);
    } else setRenaming(false);
  };
  return (
    <tr className={e.deleted ? 'row-deleted' : undefined} data-experiment-id={e.id}>
      <td className="col-check">
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Select ${e.name}`} disabled={e.deleted} />
      </td>
      <td>
        {renaming ? (
          <form onSubmit={submit} className="inline-form">
            <input aria-label="New name" value={name} onChange={(ev) => setName(ev.target.value)} autoFocus />
            <button type="submit">Save</button>
            <button type="button" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </form>
        ) : e.deleted ? (
          <span>{e.name}</span>
        ) : (
          <Link to={paths.runs([e.id])} className="experiment-link">
            {e.name}
          </Link>
        )}
        {e.deleted ? <span className="badge badge-muted">deleted</span> : null}
      </td>
      <td className="muted">{e.description}</td>
      <td className="num">{e.runCount}</td>
      <td title={formatTimestamp(e.lastActivity)}>{formatRelative(e.lastActivity)}</td>
      <td>{formatTimestamp(e.createdAt)}</td>
      <td className="actions">
        {e.deleted ? (
          <button type="button" onClick={() => void onRestore()}>
            Restore
          </button>
        ) : (
          <>
            <button type="button" onClick={() => setRenaming(true)}>
              Rename
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(`Delete experiment “${e.name}”? It can be restored later.`)) void onDelete();
              }}
            >
              Delete
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

function CreateExperimentForm({ onCreate }: { onCreate: (name: string, description: string) => Promise<boolean> }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  if (!open) {
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        New experiment
      </button>
    );
  }
  return (
    <form
      className="inline-form create-experiment"
      onSubmit={async (ev) => {
        ev.preventDefault();
        if (!name.trim()) return;
        if (await onCreate(name.trim(), description.trim())) {
          setName('');
          setDescription('');
          setOpen(false);
        }
      }}
    >
      <input aria-label="Experiment name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      <input
        aria-label="Description"
        placeholder="Description (optional)"
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <button type="submit" className="primary" disabled={!name.trim()}>
        Create
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}

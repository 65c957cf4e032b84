/**
 * The registry's actions, each stating what it will do before it does it: move a version to a
 * stage (or request it, for a protected stage), set/move/remove an alias, approve or reject
 * another user's request, edit a description and tags. Every change is recorded with the acting
 * user (graphql/actingUser.ts) and the comment.
 */
import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../../graphql/generated';
import { apiErrorMessage } from '../../graphql/errors';
import { useActingUser } from '../../graphql/actingUser';
import { Markdown } from '../../components/ui/Markdown';
import { formatTimestamp } from '../../lib/format';
import { decisionRule, planAlias, planTransition, stageLabel, STAGES, type Stage } from './registryRules';

const TransitionMutation = graphql(`
  mutation TransitionVersion($name: String!, $version: Int!, $stage: Stage!, $comment: String, $archiveExisting: Boolean!) {
    transitionModelVersionStage(name: $name, version: $version, stage: $stage, comment: $comment, archiveExisting: $archiveExisting) {
      name
      version
      stage
    }
  }
`);

const RequestMutation = graphql(`
  mutation RequestTransition($name: String!, $version: Int!, $stage: Stage, $alias: String, $comment: String, $archiveExisting: Boolean!) {
    requestTransition(name: $name, version: $version, stage: $stage, alias: $alias, comment: $comment, archiveExisting: $archiveExisting) {
      id
      status
    }
  }
`);

const SetAliasMutation = graphql(`
  mutation SetAlias($name: String!, $alias: String!, $version: Int!, $comment: String) {
    setModelVersionAlias(name: $name, alias: $alias, version: $version, comment: $comment) {
      name
      version
      aliases
    }
  }
`);

const DeleteAliasMutation = graphql(`
  mutation DeleteAlias($name: String!, $alias: String!, $comment: String) {
    deleteModelVersionAlias(name: $name, alias: $alias, comment: $comment)
  }
`);

const ApproveMutation = graphql(`
  mutation ApproveRequest($id: ID!, $comment: String) {
    approveTransition(id: $id, comment: $comment) {
      id
      status
    }
  }
`);

const RejectMutation = graphql(`
  mutation RejectRequest($id: ID!, $comment: String) {
    rejectTransition(id: $id, comment: $comment) {
      id
      status
    }
  }
`);

function ActionError({ message }: { message: string | null }) {
  return message ? (
    <p className="error-message" role="alert">
      {message}
    </p>
  ) : null;
}

export function TransitionForm({ name, version, currentStage, protectedStages, holdersByStage, onDone }: {
  name: string;
  version: number;
  currentStage: Stage;
  protectedStages: readonly Stage[];
  holdersByStage: ReadonlyMap<Stage, number[]>;
  onDone: () => void;
}) {
  const [stage, setStage] = useState<Stage>(currentStage === 'PRODUCTION' ? 'ARCHIVED' : currentStage === 'STAGING' ? 'PRODUCTION' : 'STAGING');
  const [comment, setComment] = useState('');
  const [archiveExisting, setArchiveExisting] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [transition, runTransition] = useMutation(TransitionMutation);
  const [request, runRequest] = useMutation(RequestMutation);
  const holders = holdersByStage.get(stage) ?? [];
  const plan = planTransition({ version, currentStage, stage, protectedStages, holders, archiveExisting, comment });
  const offerArchive = holders.some((h) => h !== version) && stage !== 'ARCHIVED' && stage !== 'NONE';
  const busy = transition.fetching || request.fetching;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (plan.blocked) return;
    setError(null);
    const vars = { name, version, stage, comment: comment.trim() || null, archiveExisting: offerArchive && archiveExisting };
    const r = plan.needsApproval ? await runRequest(vars) : await runTransition(vars);
    if (r.error) setError(apiErrorMessage(r.error));
    else {
      setComment('');
      onDone();
    }
  };

  return (
    <form className="action-form" onSubmit={submit} data-testid="transition-form">
      <h3>Change stage</h3>
      <label>
        Move to{' '}
        <select aria-label="Target stage" value={stage} onChange={(e) => setStage(e.target.value as Stage)} data-testid="transition-stage">
          {STAGES.map((s) => (
            <option key={s} value={s}>
              {stageLabel(s)}
              {protectedStages.includes(s) ? ' (needs approval)' : ''}
            </option>
          ))}
        </select>
      </label>
      {offerArchive ? (
        <label className="checkbox-label">
          <input type="checkbox" checked={archiveExisting} onChange={(e) => setArchiveExisting(e.target.checked)} data-testid="transition-archive" /> Archive the current holder
          {holders.filter((h) => h !== version).length > 1 ? 's' : ''} ({holders.filter((h) => h !== version).map((h) => `v${h}`).join(', ')})
        </label>
      ) : null}
      <textarea
        aria-label="Transition comment"
        placeholder={plan.commentRequired ? 'Why? (required)' : 'Why? (optional)'}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        rows={2}
        data-testid="transition-comment"
      />
      <p className="action-summary" data-testid="transition-summary">
        {plan.summary}
      </p>
      {plan.blocked ? (
        <p className="muted" data-testid="transition-blocked">
          {plan.blocked}
        </p>
      ) : null}
      <button type="submit" className="primary" disabled={plan.blocked !== null || busy} data-testid="transition-submit">
        {plan.needsApproval ? 'Request approval' : `Move to ${stageLabel(stage)}`}
      </button>
      <ActionError message={error} />
    </form>
  );
}

export function AliasForm({ name, version, aliases, protectedAliases, onDone }: {
  name: string;
  version: number;
  /** Every alias of the model and where it points. */
  aliases: ReadonlyArray<{ alias: string; version: number }>;
  protectedAliases: readonly string[];
  onDone: () => void;
}) {
  const [alias, setAlias] = useState('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [setState, runSet] = useMutation(SetAliasMutation);
  const [requestState, runRequest] = useMutation(RequestMutation);
  const [, runDelete] = useMutation(DeleteAliasMutation);
  const current = aliases.find((a) => a.alias === alias.trim())?.version ?? null;
  const plan = planAlias({ alias, version, current, protectedAliases, comment });
  const mine = aliases.filter((a) => a.version === version);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (plan.blocked) return;
    setError(null);
    const c = comment.trim() || null;
    const r = plan.needsApproval
      ? await runRequest({ name, version, alias: alias.trim(), stage: null, comment: c, archiveExisting: false })
      : await runSet({ name, alias: alias.trim(), version, comment: c });
    if (r.error) setError(apiErrorMessage(r.error));
    else {
      setAlias('');
      setComment('');
      onDone();
    }
  };
  const remove = async (a: string) => {
    // The browser's own confirm: it states the change and needs a deliberate second click.
    if (!window.confirm(`Remove @${a} from version ${version}? Anything loading models:/${name}@${a} will fail until it is set again.`)) return;
    const r = await runDelete({ name, alias: a, comment: comment.trim() || null });
    if (r.error) setError(apiErrorMessage(r.error));
    else onDone();
  };

  return (
    <form className="action-form" onSubmit={submit} data-testid="alias-form">
      <h3>Aliases</h3>
      {mine.length ? (
        <ul className="plain-list">
          {mine.map((a) => (
            <li key={a.alias}>
              @{a.alias}{' '}
              <button type="button" className="link-button danger" onClick={() => void remove(a.alias)} data-testid={`alias-remove-${a.alias}`}>
                remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No alias points at this version.</p>
      )}
      <input
        list="model-aliases"
        aria-label="Alias"
        placeholder="alias, e.g. champion"
        value={alias}
        onChange={(e) => setAlias(e.target.value)}
        data-testid="alias-name"
      />
      <datalist id="model-aliases">
        {aliases.map((a) => (
          <option key={a.alias} value={a.alias} />
        ))}
      </datalist>
      <input aria-label="Alias comment" placeholder="Why? (optional)" value={comment} onChange={(e) => setComment(e.target.value)} data-testid="alias-comment" />
      {alias.trim() ? (
        <p className="action-summary" data-testid="alias-summary">
          {plan.summary}
        </p>
      ) : null}
      {plan.blocked && alias.trim() ? <p className="muted">{plan.blocked}</p> : null}
      <button type="submit" disabled={plan.blocked !== null || setState.fetching || requestState.fetching} data-testid="alias-submit">
        {plan.needsApproval ? 'Request approval' : current === null ? 'Set alias' : 'Move alias here'}
      </button>
      <ActionError message={error} />
    </form>
  );
}

export interface PendingRequest {
  id: string;
  version: number;
  stage?: Stage | null;
  alias?: string | null;
  status: string;
  requestedBy: string;
  requestedAt: number | string; // Long
  comment?: string | null;
  archiveExisting: boolean;
}

export function RequestsPanel({ requests, onDone }: { requests: readonly PendingRequest[]; onDone: () => void }) {
  const user = useActingUser();
  return (
    <section className="panel" data-testid="requests-panel">
      <h2>Pending approval requests</h2>
      {requests.length === 0 ? <p className="muted">None.</p> : null}
      {requests.map((r) => (
        <RequestItem key={r.id} request={r} user={user} onDone={onDone} />
      ))}
    </section>
  );
}

function RequestItem({ request, user, onDone }: { request: PendingRequest; user: string; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [approveState, approve] = useMutation(ApproveMutation);
  const [rejectState, reject] = useMutation(RejectMutation);
  const rule = decisionRule(request, user);
  const target = request.stage ? stageLabel(request.stage) : `@${request.alias}`;
  const decide = async (kind: 'approve' | 'reject') => {
    setError(null);
    const vars = { id: request.id, comment: comment.trim() || null };
    const r = kind === 'approve' ? await approve(vars) : await reject(vars);
    if (r.error) setError(apiErrorMessage(r.error));
    else onDone();
  };
  return (
    <div className="request-item" data-request-id={request.id} data-testid="request-item">
      <p>
        <strong>{request.requestedBy}</strong> asks to move version {request.version} to {target}
        {request.archiveExisting ? ' (archiving the current holders)' : ''} — {formatTimestamp(request.requestedAt)}
      </p>
      {request.comment ? <blockquote className="timeline-comment">{request.comment}</blockquote> : null}
      <input aria-label="Decision comment" placeholder="Comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} data-testid="decision-comment" />
      <p className="action-summary">
        Approving moves version {request.version} to {target} now, recorded as approved by {user || 'anonymous'}; rejecting leaves everything as it is.
      </p>
      <button type="button" className="primary" disabled={!rule.allowed || approveState.fetching} title={rule.reason ?? undefined} onClick={() => void decide('approve')} data-testid="request-approve">
        Approve
      </button>{' '}
      <button type="button" disabled={!rule.allowed || rejectState.fetching} title={rule.reason ?? undefined} onClick={() => void decide('reject')} data-testid="request-reject">
        Reject
      </button>
      {rule.reason ? (
        <p className="muted" data-testid="request-disabled-reason">
          {rule.reason}
        </p>
      ) : null}
      <ActionError message={error} />
    </div>
  );
}

/** A Markdown description shown rendered, edited as text; saving states that it is recorded. */
export function DescriptionEditor({ value, onSave }: { value: string | null; onSave: (text: string) => Promise<string | null> }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(value ?? '');
  const [error, setError] = useState<string | null>(null);
  if (!editing) {
    return (
      <div className="description" data-testid="description">
        <div className="markdown-preview">{value ? <Markdown source={value} /> : <p className="muted">No description.</p>}</div>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setDraft(value ?? '');
            setEditing(true);
          }}
          data-testid="description-edit"
        >
          Edit description
        </button>
      </div>
    );
  }
  return (
    <form
      className="description action-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const err = await onSave(draft);
        setError(err);
        if (!err) setEditing(false);
      }}
    >
      <textarea aria-label="Description (Markdown)" rows={6} value={draft} onChange={(e) => setDraft(e.target.value)} data-testid="description-input" />
      <p className="action-summary">Saving replaces the description; the edit is recorded in the history with your name.</p>
      <button type="submit" className="primary" data-testid="description-save">
        Save
      </button>{' '}
      <button type="button" onClick={() => setEditing(false)}>
        Cancel
      </button>
      <ActionError message={error} />
    </form>
  );
}

/** Tags as chips with a remove button, and a key=value box to add or overwrite one. */
export function TagsEditor({ tags, onSet, onDelete }: {
  tags: ReadonlyArray<{ key: string; value: string }>;
  onSet: (key: string, value: string) => Promise<string | null>;
  onDelete: (key: string) => Promise<string | null>;
}) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const m = /^([^=\s][^=]*)=(.*)$/.exec(draft.trim());
  const existing = m ? tags.find((t) => t.key === m[1]!.trim()) : undefined;
  return (
    <div className="tags-editor" data-testid="tags-editor">
      {tags.map((t) => (
        <span key={t.key} className="tag-chip" data-tag={t.key}>
          {t.key}={t.value}{' '}
          <button
            type="button"
            className="link-button"
            aria-label={`Remove tag ${t.key}`}
            onClick={async () => {
              if (window.confirm(`Remove the tag ${t.key}=${t.value}?`)) setError(await onDelete(t.key));
            }}
          >
            ×
          </button>
        </span>
      ))}
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!m) return;
          const err = await onSet(m[1]!.trim(), m[2]!.trim());
          setError(err);
          if (!err) setDraft('');
        }}
      >
        <input aria-label="New tag" placeholder="key=value" value={draft} onChange={(e) => setDraft(e.target.value)} data-testid="tag-input" />
        <button type="submit" disabled={!m}>
          {existing ? `Change ${existing.key} from "${existing.value}"` : 'Add tag'}
        </button>
      </form>
      <ActionError message={error} />
    </div>
  );
}

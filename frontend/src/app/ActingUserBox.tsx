/**
 * "Acting as": the name the registry records for this browser's changes, until authentication
 * lands. Stored in localStorage and sent as X-Mltrail-User (graphql/actingUser.ts).
 */
import { useState, type FormEvent } from 'react';
import { setActingUser, useActingUser } from '../graphql/actingUser';

export function ActingUserBox() {
  const user = useActingUser();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(user);
  const save = (e: FormEvent) => {
    e.preventDefault();
    setActingUser(draft);
    setEditing(false);
  };
  if (!editing) {
    return (
      <div className="acting-user" data-testid="acting-user">
        <span className="muted">Acting as</span> <strong data-testid="acting-user-name">{user || 'anonymous'}</strong>{' '}
        <button
          type="button"
          className="link-button"
          onClick={() => {
            setDraft(user);
            setEditing(true);
          }}
          data-testid="acting-user-change"
        >
          change
        </button>
      </div>
    );
  }
  return (
    <form className="acting-user" onSubmit={save}>
      <input aria-label="Your name" placeholder="your name" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus data-testid="acting-user-input" />
      <button type="submit" data-testid="acting-user-save">
        Save
      </button>
      <span className="muted">recorded with every registry change you make (no sign-in yet)</span>
    </form>
  );
}

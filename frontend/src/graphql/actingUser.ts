/**
 * Who the dashboard acts as, until authentication lands: a name the user types, kept in
 * localStorage and sent as `X-Mltrail-User` on every GraphQL request (the server records it in
 * the registry's audit trail) and in the socket's connection_init payload. Empty means
 * "anonymous" on the server.
 */
import { useSyncExternalStore } from 'react';

export const ACTING_USER_KEY = 'mltrail.user';
export const ACTING_USER_HEADER = 'X-Mltrail-User';

const listeners = new Set<() => void>();

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null; // storage disabled (privacy mode): act as anonymous
  }
}

export function actingUser(): string {
  return (storage()?.getItem(ACTING_USER_KEY) ?? '').trim();
}

export function setActingUser(name: string): void {
  const s = storage();
  const trimmed = name.trim();
  if (trimmed) s?.setItem(ACTING_USER_KEY, trimmed);
  else s?.removeItem(ACTING_USER_KEY);
  for (const l of listeners) l();
}

/** The header set for one request: none when no name is set, so the server says anonymous. */
export function actingUserHeaders(): Record<string, string> {
  const user = actingUser();
  return user ? { [ACTING_USER_HEADER]: user } : {};
}

export function useActingUser(): string {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    actingUser,
    () => '',
  );
}

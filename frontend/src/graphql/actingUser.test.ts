import { afterEach, describe, expect, it } from 'vitest';
import { ACTING_USER_KEY, actingUser, actingUserHeaders, setActingUser } from './actingUser';

describe('acting user', () => {
  afterEach(() => window.localStorage.clear());
  it('sends no header until a name is set, so the server says anonymous', () => {
    expect(actingUserHeaders()).toEqual({});
  });
  it('keeps the trimmed name in localStorage and sends it as X-Mltrail-User', () => {
    setActingUser('  carol ');
    expect(window.localStorage.getItem(ACTING_USER_KEY)).toBe('carol');
    expect(actingUser()).toBe('carol');
    expect(actingUserHeaders()).toEqual({ 'X-Mltrail-User': 'carol' });
  });
  it('an empty name forgets it', () => {
    setActingUser('carol');
    setActingUser('   ');
    expect(window.localStorage.getItem(ACTING_USER_KEY)).toBeNull();
    expect(actingUserHeaders()).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { parseLoginName } from './login-name.js';

describe('parseLoginName', () => {
  it('reads USER as the user with the default device', () => {
    expect(parseLoginName('alice')).toEqual({ user: 'alice', deviceId: undefined, attachAs: 'participant' });
  });

  it('reads USER:DEVICE as that user and device', () => {
    expect(parseLoginName('alice:rtr-1.lab')).toEqual({ user: 'alice', deviceId: 'rtr-1.lab', attachAs: 'participant' });
  });

  it('reads USER:DEVICE:watch as a deliberate read-only login', () => {
    expect(parseLoginName('sue:rtr-1:watch')).toEqual({ user: 'sue', deviceId: 'rtr-1', attachAs: 'observer' });
  });

  it.each([
    ['', 'empty'],
    [':dev', 'empty user'],
    ['alice:', 'empty device'],
    [':', 'both empty'],
    ['a:b:c', 'unknown mode'],
    ['a::watch', 'watch without device'],
    ['a:b:watch:x', 'three colons'],
    [`alice:${'d'.repeat(65)}`, 'a device part longer than any device id'],
    ['a'.repeat(65), 'a user part longer than any user name'],
    ['alice:rtr\x1b[2J', 'control characters'],
    ['alice:rtr 1', 'a space'],
    ['.alice', 'a leading dot'],
  ])('refuses %j (%s) with AUTH_FAILED', (login) => {
    let caught: unknown;
    try {
      parseLoginName(login);
    } catch (err) {
      caught = err;
    }
    expect(isLifelineError(caught, 'AUTH_FAILED')).toBe(true);
  });
});

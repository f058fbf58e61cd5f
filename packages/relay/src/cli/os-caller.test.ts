import { describe, expect, it } from 'vitest';
import { userInfo } from 'node:os';
import { osCaller } from './os-caller.js';

describe('osCaller', () => {
  it('names the operating-system user and who ran sudo', () => {
    expect(osCaller({ SUDO_USER: 'alice' }, () => 'root')).toBe('os:root (sudo by alice)');
  });

  it('names the user alone without sudo', () => {
    expect(osCaller({}, () => 'lifeline')).toBe('os:lifeline');
    expect(osCaller({ SUDO_USER: 'root' }, () => 'root')).toBe('os:root');
  });

  it('reads the real user name of this process by default', () => {
    expect(osCaller({})).toBe(`os:${userInfo().username}`);
  });
});

import { describe, expect, it } from 'vitest';
import { isLifelineError } from '@lifeline/shared';
import { diagnoseOpenFailure } from './serial-open-error.js';

const bindingError = new Error('Error: Permission denied, cannot open /dev/ttyUSB0');

function failingWith(code: string) {
  return async () => {
    throw Object.assign(new Error(code), { code });
  };
}

describe('diagnoseOpenFailure', () => {
  it('calls a missing path not present, in the exact words people are shown', async () => {
    const err = await diagnoseOpenFailure('/dev/ttyUSB0', bindingError, failingWith('ENOENT'));
    expect(isLifelineError(err, 'CONSOLE_NOT_PRESENT')).toBe(true);
    expect(err.message).toBe('serial port /dev/ttyUSB0 is not present');
    expect(err.cause).toBe(bindingError);
  });

  it('points at the dialout group when permission is denied', async () => {
    const err = await diagnoseOpenFailure('/dev/ttyUSB0', bindingError, failingWith('EACCES'));
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect(err.message).toBe('serial port /dev/ttyUSB0: permission denied (is the agent user in the dialout group?)');
  });

  it("passes the binding's reason on when the path is there and accessible", async () => {
    const cause = new Error('Error Resource temporarily unavailable Cannot lock port');
    const err = await diagnoseOpenFailure('/dev/ttyUSB0', cause, async () => undefined);
    expect(isLifelineError(err, 'CONSOLE_OPEN_FAILED')).toBe(true);
    expect(err.message).toBe('serial port /dev/ttyUSB0: cannot open (Resource temporarily unavailable Cannot lock port)');
  });

  it('checks the real file system by default', async () => {
    const err = await diagnoseOpenFailure('/nonexistent/ttyUSB7', bindingError);
    expect(isLifelineError(err, 'CONSOLE_NOT_PRESENT')).toBe(true);
  });
});

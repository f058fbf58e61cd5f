import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@lifeline/shared/testing';
import { RouterSimulator } from './router-simulator.js';

describe('RouterSimulator', () => {
  let out: string;
  let clock: FakeClock;
  let sim: RouterSimulator;

  /** Types `keys` and returns what the router printed in answer. */
  function type(keys: string): string {
    out = '';
    sim.input(Buffer.from(keys, 'latin1'));
    return out;
  }

  beforeEach(() => {
    out = '';
    clock = new FakeClock(Date.UTC(2026, 10, 21, 10, 15, 30, 123));
    sim = new RouterSimulator({ hostname: 'edge-rtr', clock }, (text) => (out += text));
    sim.powerOn();
  });

  it('prints a boot banner and then the user prompt on its own line', () => {
    expect(out).toContain('System Bootstrap, Version 15.0');
    expect(out).toContain('lifeline simulated router');
    expect(out.endsWith('\r\nedge-rtr>')).toBe(true);
  });

  it('echoes typed characters', () => {
    expect(type('sho')).toBe('sho');
  });

  it('erases with backspace and DEL, and ignores erasing an empty line', () => {
    expect(type('ab\x08')).toBe('ab\b \b');
    expect(type('\x7f\x7f')).toBe('\b \b');
    expect(type('show clock\r')).toContain('UTC');
  });

  it('runs a line on CR, on LF and once on CRLF, even when CRLF is split across writes', () => {
    expect(type('\n')).toBe('\r\nedge-rtr>');
    expect(type('\r')).toBe('\r\nedge-rtr>');
    expect(type('\n')).toBe('');
    expect(type('\r\n')).toBe('\r\nedge-rtr>');
    expect(type('\r\r')).toBe('\r\nedge-rtr>\r\nedge-rtr>');
  });

  it('answers show version with the hostname, the simulated IOS and the config register', () => {
    clock.now = () => Date.UTC(2026, 10, 21, 10, 18, 30);
    const text = type('show version\r\n');
    expect(text.startsWith('show version\r\n')).toBe(true);
    expect(text).toContain('lifeline simulated IOS');
    expect(text).toContain('edge-rtr uptime is 2 minutes');
    expect(text).toContain('Configuration register is 0x2102');
    expect(text.split('\r\n').length).toBeGreaterThan(5);
    expect(text.endsWith('\r\nedge-rtr>')).toBe(true);
  });

  it('accepts IOS-style abbreviations such as "sh ver"', () => {
    expect(type('sh ver\r')).toContain('lifeline simulated IOS');
  });

  it('answers show clock from the injected clock', () => {
    expect(type('show clock\r')).toBe('show clock\r\n*10:15:30.123 UTC Sat Nov 21 2026\r\nedge-rtr>');
  });

  it('switches to the # prompt on enable and back on disable', () => {
    expect(type('enable\r')).toBe('enable\r\nedge-rtr#');
    expect(type('disable\r')).toBe('disable\r\nedge-rtr>');
  });

  it('lists its commands for ? and help', () => {
    for (const keys of ['?\r', 'help\r']) {
      const text = type(keys);
      for (const command of ['enable', 'show version', 'show clock', 'help']) expect(text).toContain(command);
    }
    expect(type('?\r')).not.toContain('disable');
    type('enable\r');
    expect(type('?\r')).toContain('disable');
  });

  it('marks unknown input with ^ and "% Invalid input detected"', () => {
    const text = type('show bogus\r');
    expect(text).toContain("% Invalid input detected at '^' marker.");
    // The caret sits under "bogus", counting the prompt's width.
    expect(text).toContain(`\r\n${' '.repeat('edge-rtr>show '.length)}^\r\n`);
    expect(text.endsWith('\r\nedge-rtr>')).toBe(true);
  });

  it('calls a command cut short incomplete', () => {
    expect(type('show\r')).toContain('% Incomplete command.');
  });

  it('shows the prompt again on an empty line', () => {
    expect(type('   \r')).toBe('   \r\nedge-rtr>');
  });

  describe('after a BREAK', () => {
    beforeEach(() => {
      type('enable\r');
      out = '';
      sim.receiveBreak();
    });

    it('announces the break and drops into ROMMON', () => {
      expect(out).toBe('\r\n*** System received a Break ***\r\nmonitor: command "boot" aborted due to user interrupt\r\nrommon 1 > ');
    });

    it('counts ROMMON prompts up with each command', () => {
      expect(type('\r')).toBe('\r\nrommon 2 > ');
      expect(type('dir flash:\r')).toBe('dir flash:\r\nmonitor: command "dir" not found\r\nrommon 3 > ');
    });

    it('prints the config register on confreg and takes a new one', () => {
      expect(type('confreg\r')).toContain('(Virtual Configuration Register: 0x2102)');
      expect(type('confreg 0x2142\r')).toContain('You must reset or power cycle');
      expect(type('confreg\r')).toContain('0x2142');
    });

    it('reboots on boot and on reset, back to the banner and the user prompt', () => {
      for (const command of ['boot', 'reset']) {
        const text = type(`${command}\r`);
        expect(text).toContain('System Bootstrap');
        expect(text.endsWith('\r\nedge-rtr>')).toBe(true);
        expect(sim.prompt).toBe('edge-rtr>');
        sim.receiveBreak();
      }
    });

    it('keeps a new config register across the reboot', () => {
      type('confreg 0x2142\r');
      type('reset\r');
      expect(type('show version\r')).toContain('Configuration register is 0x2142');
    });
  });
});

import type { Clock } from '@lifeline/shared/core';

export interface RouterSimulatorOptions {
  hostname: string;
  clock: Clock;
}

type Mode = 'user' | 'enable' | 'rommon';

interface ExecCommand {
  words: string[];
  help: string;
  run(sim: RouterSimulator): string[];
}

const crlf = '\r\n';
const maxLine = 256;
const defaultConfreg = 0x2102;

/**
 * A small Cisco-like router console for the demo: a boot banner, `>` and `#` prompts with echo and
 * line editing, a few `show` commands, and a BREAK that drops into ROMMON (where `confreg` and
 * `boot`/`reset` work), which is what an engineer reaches for a serial console to do.
 *
 * Pure behaviour: bytes in through `input()`, text out through the `output` callback, nothing about
 * ports. Not byte-transparent on purpose: it answers like a device, it does not loop bytes back.
 */
export class RouterSimulator {
  private mode: Mode = 'user';
  private line = '';
  private lastWasCr = false;
  private rommonCount = 1;
  private confreg = defaultConfreg;
  private bootedAt = 0;

  constructor(
    private readonly options: RouterSimulatorOptions,
    private readonly output: (text: string) => void,
  ) {}

  get prompt(): string {
    if (this.mode === 'rommon') return `rommon ${this.rommonCount} > `;
    return `${this.options.hostname}${this.mode === 'enable' ? '#' : '>'}`;
  }

  /** Boots: the banner, then the user-mode prompt. */
  powerOn(): void {
    this.mode = 'user';
    this.line = '';
    this.rommonCount = 1;
    this.bootedAt = this.options.clock.now();
    this.output(
      [
        '',
        'System Bootstrap, Version 15.0(1r)M16, RELEASE SOFTWARE (fc1)',
        'lifeline simulated router: nothing here is real hardware.',
        `Configuration register is 0x${this.confreg.toString(16)}`,
        '',
        `lifeline simulated IOS, ${this.options.hostname}, ready.`,
        '',
        this.prompt,
      ].join(crlf),
    );
  }

  /** A BREAK on the line: abandon whatever runs and drop into ROMMON, as during a Cisco boot. */
  receiveBreak(): void {
    this.mode = 'rommon';
    this.line = '';
    this.output(`${crlf}*** System received a Break ***${crlf}monitor: command "boot" aborted due to user interrupt${crlf}${this.prompt}`);
  }

  /** Keystrokes from the console: echo, erase, and run a line on CR, LF or CRLF. */
  input(data: Buffer): void {
    let echo = '';
    for (const byte of data) {
      const wasCr = this.lastWasCr;
      this.lastWasCr = byte === 0x0d;
      if (byte === 0x0a && wasCr) continue;
      if (byte === 0x0d || byte === 0x0a) {
        this.flush(echo);
        echo = '';
        this.enter();
      } else if (byte === 0x08 || byte === 0x7f) {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          echo += '\b \b';
        }
      } else if (byte >= 0x20 && byte < 0x7f && this.line.length < maxLine) {
        this.line += String.fromCharCode(byte);
        echo += String.fromCharCode(byte);
      }
    }
    this.flush(echo);
  }

  private flush(text: string): void {
    if (text) this.output(text);
  }

  private enter(): void {
    const typed = this.line;
    const promptWidth = this.prompt.length;
    this.line = '';
    const words = typed.trim().split(/\s+/).filter(Boolean);
    if (this.mode === 'rommon') {
      const out = this.rommon(words);
      if (this.mode === 'rommon') {
        this.rommonCount += 1;
        this.output(crlf + out.map((l) => l + crlf).join('') + this.prompt);
      }
      return;
    }
    const out = words.length === 0 ? [] : this.exec(words, typed, promptWidth);
    this.output(crlf + out.map((l) => l + crlf).join('') + this.prompt);
  }

  private exec(words: string[], typed: string, promptWidth: number): string[] {
    if (words[0] === '?') return this.helpList();
    const matches = execCommands.filter((c) => c.words.length === words.length && startsWithWords(c, words));
    if (matches.length === 1) return matches[0]!.run(this);
    if (matches.length > 1) return [`% Ambiguous command:  "${typed.trim()}"`];
    if (execCommands.some((c) => c.words.length > words.length && startsWithWords(c, words))) return ['% Incomplete command.', ''];
    const marker = ' '.repeat(promptWidth + badWordOffset(typed, words)) + '^';
    return [marker, "% Invalid input detected at '^' marker.", ''];
  }

  /** @internal */
  helpList(): string[] {
    const commands = execCommands.filter((c) => this.mode === 'enable' || c.words[0] !== 'disable');
    return ['Exec commands:', ...commands.map((c) => `  ${c.words.join(' ').padEnd(16)}${c.help}`)];
  }

  private rommon(words: string[]): string[] {
    const [command, arg] = words;
    switch (command?.toLowerCase()) {
      case undefined:
        return [];
      case 'confreg':
        if (arg && /^0x[0-9a-f]{1,4}$/i.test(arg)) {
          this.confreg = Number.parseInt(arg, 16);
          return ['', 'You must reset or power cycle for new config to take effect'];
        }
        return [
          '',
          'Configuration Summary',
          `(Virtual Configuration Register: 0x${this.confreg.toString(16)})`,
          'enabled are:',
          'console baud: 9600',
          'boot: image specified by the boot system commands',
        ];
      case 'boot':
      case 'reset':
        this.output(crlf);
        this.powerOn();
        return [];
      case 'help':
      case '?':
        return [
          'boot               boot up an external process',
          'confreg            configuration register utility',
          'reset              system reset',
        ];
      default:
        return [`monitor: command "${command}" not found`];
    }
  }

  /** @internal for the command table */
  showVersion(): string[] {
    const minutes = Math.floor((this.options.clock.now() - this.bootedAt) / 60_000);
    return [
      'lifeline simulated IOS Software, Version 15.2(4)M11, RELEASE SOFTWARE (fc2)',
      'This is a simulation for the lifeline demo; no real router is attached.',
      '',
      `${this.options.hostname} uptime is ${minutes} minute${minutes === 1 ? '' : 's'}`,
      'System image file is "flash:lifeline-sim.bin"',
      '',
      'lifeline SIM-1900 (simulated) processor with 491520K/32768K bytes of memory.',
      '1 Serial console port',
      `Configuration register is 0x${this.confreg.toString(16)}`,
    ];
  }

  /** @internal */
  showClock(): string[] {
    const d = new Date(this.options.clock.now());
    const time = d.toISOString().slice(11, 23);
    const day = d.toUTCString().slice(0, 3);
    const month = d.toUTCString().slice(8, 11);
    return [`*${time} UTC ${day} ${month} ${d.getUTCDate()} ${d.getUTCFullYear()}`];
  }

  /** @internal */
  setPrivileged(on: boolean): string[] {
    this.mode = on ? 'enable' : 'user';
    return [];
  }
}

const execCommands: ExecCommand[] = [
  { words: ['disable'], help: 'Turn off privileged commands', run: (s) => s.setPrivileged(false) },
  { words: ['enable'], help: 'Turn on privileged commands', run: (s) => s.setPrivileged(true) },
  { words: ['help'], help: 'List the commands', run: (s) => s.helpList() },
  { words: ['show', 'clock'], help: 'Display the system clock', run: (s) => s.showClock() },
  { words: ['show', 'version'], help: 'System hardware and software status', run: (s) => s.showVersion() },
];

function startsWithWords(command: ExecCommand, words: string[]): boolean {
  return words.every((w, i) => command.words[i]?.startsWith(w.toLowerCase()) ?? false);
}

/** Where in the typed line the first word that matches no command starts, for IOS's `^` marker. */
function badWordOffset(typed: string, words: string[]): number {
  let at = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    at = typed.indexOf(word, at);
    const known = execCommands.some((c) => startsWithWords(c, words.slice(0, i + 1)));
    if (!known) return at;
    at += word.length;
  }
  return at;
}

import { LifelineError, isLifelineError, printable, type Clock, type TimerHandle } from '@lifeline/shared/core';
import type { AttachmentFor, ConsoleBroker, ConsoleRequest, DeviceChoice, OfflineWait, PartyTerminal } from '../session/console-broker.js';
import type { Person } from '../session/person.js';

/** Devices listed at once; past this the person narrows the list by typing the start of a name. */
export const MENU_PAGE = 20;
/** A menu left alone this long ends the session: it holds a channel, like a login prompt. */
export const MENU_IDLE_MS = 300_000;
/** Wrong choices before the menu gives up. */
const MAX_TRIES = 20;
/** Longest line the menu reads (device ids are at most 64 characters). */
const MAX_LINE = 64;

/** The person's keystrokes: the session channel (a Readable). */
export interface MenuInput {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export interface AttachOrChooseOptions<P extends Person> {
  broker: ConsoleBroker;
  request: ConsoleRequest<P>;
  terminal: PartyTerminal;
  /** Given for pty sessions (see ConsoleBroker.attach); the menu is offered only with a pty. */
  wait: OfflineWait | undefined;
  input: MenuInput;
  clock: Clock;
  idleMs?: number;
}

/**
 * Attaches the person to their device; in a pty session, a login that names no device it can
 * reach (a plain `USER` with no default, or an unknown or forbidden `USER:DEVICE`: the same
 * answer for both) gets a short menu of the devices this person may reach, with online/offline,
 * as console servers offer a port menu. Choosing by number or name attaches through the same
 * broker call. Without a pty, or with nothing to offer, it throws the broker's refusal as before.
 * Throws what `broker.attach` throws, or ROUTE_DEVICE_UNAVAILABLE when the person leaves the menu.
 */
export async function attachOrChoose<P extends Person>(options: AttachOrChooseOptions<P>): Promise<AttachmentFor<P>> {
  const { broker, request, terminal, wait } = options;
  try {
    return await broker.attach(request, terminal, wait);
  } catch (err) {
    if (!request.term || !isLifelineError(err, 'ROUTE_DEVICE_UNAVAILABLE')) throw err;
    if (broker.devicesFor(request.person.user).length === 0) throw err;
    if (request.deviceId !== undefined) terminal.notice(withoutPrefix(err.message));
  }
  const menu = new DeviceMenu(options.input, terminal, options.clock, options.idleMs ?? MENU_IDLE_MS);
  for (;;) {
    const id = await menu.choose(() => broker.devicesFor(request.person.user));
    if (id === undefined) throw new LifelineError('ROUTE_DEVICE_UNAVAILABLE', 'lifeline: no device chosen.');
    // Keystrokes typed from here on wait for the console (or the give-up keys while it is offline).
    const resumeOnWait = wait && { ...wait, waiting: () => (wait.waiting(), void options.input.resume()) };
    try {
      const attachment = await broker.attach({ ...request, deviceId: id }, terminal, resumeOnWait);
      options.input.resume();
      return attachment;
    } catch (err) {
      // Gone since the list was shown (a reload): say so and offer the list again.
      if (!isLifelineError(err, 'ROUTE_DEVICE_UNAVAILABLE')) throw err;
      terminal.notice(withoutPrefix(err.message));
    }
  }
}

const withoutPrefix = (line: string) => line.replace(/^lifeline: /, '');

/** The menu itself: renders a bounded list and reads one choice at a time with a tiny line editor. */
export class DeviceMenu {
  private filter = '';
  private tries = 0;

  constructor(
    private readonly input: MenuInput,
    private readonly terminal: PartyTerminal,
    private readonly clock: Clock,
    private readonly idleMs: number,
  ) {}

  /** Resolves with the chosen device id, or undefined when the person leaves (Ctrl-C, Ctrl-D, idle, too many tries). */
  async choose(list: () => DeviceChoice[]): Promise<string | undefined> {
    for (;;) {
      const all = list();
      // Nothing (left) to offer: the person lost their access or was removed meanwhile.
      if (all.length === 0) return undefined;
      const shown = this.visible(all);
      this.render(all.length, shown);
      const line = await this.readLine();
      if (line === undefined) return undefined;
      const text = line.trim();
      if (text === '') {
        this.filter = '';
        continue;
      }
      if (/^\d+$/.test(text)) {
        const pick = shown.page[Number(text) - 1];
        if (pick) return pick.id;
      } else if (all.some((c) => c.id === text)) {
        return text;
      } else if (all.some((c) => c.id.startsWith(text))) {
        this.filter = text;
        continue;
      }
      // The same words whether such a device exists or not: only the person's own list is shown.
      this.say(`no device of yours is "${printable(text, MAX_LINE)}"; choose a number or a name from the list.`);
      if (++this.tries >= MAX_TRIES) return undefined;
    }
  }

  private visible(all: DeviceChoice[]): { page: DeviceChoice[]; matching: number } {
    const matching = this.filter ? all.filter((c) => c.id.startsWith(this.filter)) : all;
    return { page: matching.slice(0, MENU_PAGE), matching: matching.length };
  }

  private render(total: number, { page, matching }: { page: DeviceChoice[]; matching: number }): void {
    const width = Math.max(...page.map((c) => c.id.length));
    const digits = String(page.length).length;
    const head = this.filter ? `Devices starting with "${this.filter}" (${matching} of ${total}):` : `Devices you may reach (${total}):`;
    const lines = [
      head,
      ...page.map(
        (c, i) =>
          `  ${String(i + 1).padStart(digits)}  ${c.id.padEnd(width)}  ${c.online ? 'online ' : 'offline'}${c.description ? `  ${printable(c.description, 60)}` : ''}`,
      ),
    ];
    if (matching > page.length) lines.push(`  ... ${matching - page.length} more: type the start of a name to narrow the list.`);
    this.write(`\r\n${lines.join('\r\n')}\r\nDevice (number or name; Enter shows all, Ctrl-C leaves): `);
  }

  private say(line: string): void {
    this.write(`\r\n[lifeline] ${line}`);
  }

  private write(text: string): void {
    this.terminal.write(Buffer.from(text, 'utf8'));
  }

  /**
   * One line: printable ASCII echoed, Backspace/DEL erases, Enter ends it; Ctrl-C, Ctrl-D, the end
   * of input or `idleMs` without a key give undefined. Escape sequences (arrow keys) are dropped.
   * Afterwards the input is paused: nothing typed later is lost or read by the menu.
   */
  private readLine(): Promise<string | undefined> {
    return new Promise((resolve) => {
      let line = '';
      let inEscape = false;
      let timer: TimerHandle | undefined;
      const finish = (value: string | undefined) => {
        timer?.cancel();
        this.input.off('data', onData);
        this.input.off('end', onEnd);
        this.input.pause();
        if (value === undefined) this.write('\r\n');
        resolve(value);
      };
      const arm = () => {
        timer?.cancel();
        timer = this.clock.setTimeout(() => finish(undefined), this.idleMs);
      };
      const onEnd = () => finish(undefined);
      const onData = (chunk: Buffer) => {
        arm();
        for (const byte of chunk) {
          if (inEscape) {
            // ESC [ ... final byte (0x40-0x7e), or ESC and one character.
            if (byte !== 0x5b && byte >= 0x40 && byte <= 0x7e) inEscape = false;
            continue;
          }
          if (byte === 0x03 || byte === 0x04) return finish(undefined);
          if (byte === 0x0d || byte === 0x0a) return finish(line);
          if (byte === 0x1b) inEscape = true;
          else if (byte === 0x7f || byte === 0x08) {
            if (line.length > 0) {
              line = line.slice(0, -1);
              this.write('\b \b');
            }
          } else if (byte >= 0x20 && byte < 0x7f && line.length < MAX_LINE) {
            line += String.fromCharCode(byte);
            this.write(String.fromCharCode(byte));
          }
        }
      };
      arm();
      this.input.on('data', onData);
      this.input.on('end', onEnd);
      this.input.resume();
    });
  }
}

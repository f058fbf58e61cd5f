import type { Logger } from '@lifeline/shared/core';
import type { ConsoleAttachment } from '../session/console-broker.js';
import { escapeHelpLines, type EscapeCommand, type EscapeStep } from './escape-handler.js';
import { PowerMenu } from './power-menu.js';
import type { Verdict } from '../session/console-rules.js';

export interface EscapeCommandsOptions {
  /** An observer's (`:watch`) has no input, BREAK, takeover or power change: nothing here can call them. */
  attachment: ConsoleAttachment;
  /** The escape key's byte (for help texts). */
  escapeByte: number | undefined;
  /** Shows one of lifeline's own lines to the person (already prefixed). */
  say(line: string): void;
  /** The person asked to leave (escape key, then `.`). */
  disconnect(): void;
  /** True once the session is gone: remaining steps are dropped. */
  gone(): boolean;
  logger: Logger;
}

/**
 * Runs a person's input in order: keystrokes to the console, escape commands (BREAK, help, who,
 * take over, power menu, disconnect) to their handlers. Menus and help are built from the
 * attachment's `rights()`, the verdicts its handlers enforce. An observer's attachment has no
 * input path: its keystrokes stop here (the person is told once), and its BREAK, takeover and
 * power change answer with the verdict's reason without anything to call.
 */
export class EscapeCommands {
  private readonly powerMenu: PowerMenu;
  private toldWatching = false;

  constructor(private readonly options: EscapeCommandsOptions) {
    this.powerMenu = new PowerMenu(options.attachment.deviceId);
  }

  async run(steps: EscapeStep[]): Promise<void> {
    const { logger } = this.options;
    for (const step of steps) {
      if (this.options.gone()) return;
      try {
        if (step.kind === 'data' && this.powerMenu.active) await this.powerKey(step.data);
        else if (step.kind === 'data') await this.input(step.data);
        else await this.command(step.command);
      } catch (err) {
        logger.info({ event: 'session.input-failed', err }, 'input not delivered');
      }
    }
  }

  /** The key after the power menu opened goes to the menu, not the device; the rest does. */
  private async powerKey(data: Buffer): Promise<void> {
    const { attachment } = this.options;
    const { lines, run } = this.powerMenu.key(data[0]!);
    for (const line of lines) this.say(line);
    if (run) {
      try {
        if (attachment.kind === 'participant') this.say(`power ${run}: ${await attachment.power(run)}`);
        else if (run === 'status') this.say(`power ${run}: ${await attachment.powerStatus()}`);
        // The menu offers an observer status only (its rights deny the rest); nothing else to run.
        else this.say(`power ${run}: ${whyNot(attachment.rights().powerChange)}`);
      } catch (err) {
        this.say(`power ${run} failed: ${(err as Error).message}`);
      }
    }
    if (data.length > 1) await this.input(data.subarray(1));
  }

  /** Keystrokes for the console: a participant's go to the hub; an observer has no input path. */
  private async input(data: Buffer): Promise<void> {
    const { attachment } = this.options;
    if (attachment.kind === 'participant') return attachment.input(data);
    if (this.toldWatching) return;
    this.toldWatching = true;
    this.say('you are watching (read-only); what you type is not sent.');
  }

  private async command(command: EscapeCommand): Promise<void> {
    const { attachment } = this.options;
    const key = this.options.escapeByte!;
    switch (command) {
      case 'break':
        if (attachment.kind === 'observer') return this.say(`BREAK not sent: ${whyNot(attachment.rights().sendBreak)}`);
        try {
          await attachment.sendBreak(undefined);
          this.say('BREAK sent');
        } catch (err) {
          this.say(`BREAK not sent: ${(err as Error).message}`);
        }
        return;
      case 'help':
        for (const line of escapeHelpLines(key, attachment.rights())) this.say(line);
        return;
      case 'disconnect':
        this.say('disconnected.');
        this.options.disconnect();
        return;
      case 'takeover':
        if (attachment.kind === 'observer') return this.say(whyNot(attachment.rights().takeOver));
        try {
          await attachment.takeOver();
        } catch (err) {
          this.say((err as Error).message);
        }
        return;
      case 'who':
        for (const line of await attachment.who()) this.say(line);
        return;
      case 'power':
        for (const line of this.powerMenu.open(attachment.rights())) this.say(line);
        return;
    }
  }

  private say(line: string): void {
    this.options.say(`[lifeline] ${line}`);
  }
}

/** An observer's verdicts always deny (console-rules.ts); their reason is what the person sees. */
function whyNot(verdict: Verdict): string {
  return verdict.allowed ? 'not available when watching (:watch).' : verdict.why;
}

import type { NegotiationVerb } from './telnet-constants.js';

/**
 * Which end performs an option: `local` is us (we say WILL/WONT, the peer DO/DONT), `remote` is
 * the peer (it says WILL/WONT, we DO/DONT).
 */
export type OptionSide = 'local' | 'remote';

/** An option settled: it came on, or it went (or stayed) off after being asked for or used. */
export interface OptionChange {
  option: number;
  side: OptionSide;
  enabled: boolean;
}

export interface OptionNegotiatorHooks {
  /** Writes IAC <verb> <option> to the peer. */
  send(verb: NegotiationVerb, option: number): void;
  /** Whether we agree to this option on this side when the peer asks for it. */
  accept(option: number, side: OptionSide): boolean;
  onChange(change: OptionChange): void;
  /** A peer that broke the rules (e.g. WILL in reply to our DONT); negotiation recovers anyway. */
  onProblem?(message: string): void;
}

type Q = 'no' | 'yes' | 'wantno' | 'wantyes';

interface SideState {
  state: Q;
  /** RFC 1143's queue bit: after the pending answer, ask for the opposite. */
  opposite: boolean;
}

const positive: Record<OptionSide, NegotiationVerb> = { local: 'WILL', remote: 'DO' };
const negative: Record<OptionSide, NegotiationVerb> = { local: 'WONT', remote: 'DONT' };

/**
 * Telnet option negotiation by RFC 1143's "Q method": a four-state machine (plus a queue bit) per
 * option and side, which never answers a confirmation with a confirmation and so cannot loop,
 * even when both ends ask for the same option at the same moment.
 */
export class OptionNegotiator {
  private readonly options = new Map<number, Record<OptionSide, SideState>>();

  constructor(private readonly hooks: OptionNegotiatorHooks) {}

  isEnabled(option: number, side: OptionSide): boolean {
    return this.get(option, side).state === 'yes';
  }

  /** True while we wait for the peer's answer about this option. */
  isPending(option: number, side: OptionSide): boolean {
    const s = this.get(option, side).state;
    return s === 'wantyes' || s === 'wantno';
  }

  /** Asks the peer to turn an option on or off on the given side. */
  request(option: number, side: OptionSide, enable: boolean): void {
    const s = this.get(option, side);
    const want: Q = enable ? 'yes' : 'no';
    const away: Q = enable ? 'wantno' : 'wantyes';
    const toward: Q = enable ? 'wantyes' : 'wantno';
    if (s.state === want) return;
    if (s.state === away) {
      // Asked for the opposite and not answered yet: queue this for after the answer.
      s.opposite = true;
    } else if (s.state === toward) {
      s.opposite = false;
    } else {
      s.state = toward;
      this.hooks.send(enable ? positive[side] : negative[side], option);
    }
  }

  /** Handles WILL/WONT/DO/DONT from the peer. */
  receive(verb: NegotiationVerb, option: number): void {
    const side: OptionSide = verb === 'WILL' || verb === 'WONT' ? 'remote' : 'local';
    if (verb === 'WILL' || verb === 'DO') this.receivePositive(option, side);
    else this.receiveNegative(option, side);
  }

  private receivePositive(option: number, side: OptionSide): void {
    const s = this.get(option, side);
    switch (s.state) {
      case 'no':
        if (this.hooks.accept(option, side)) {
          s.state = 'yes';
          this.hooks.send(positive[side], option);
          this.changed(option, side, true);
        } else {
          this.hooks.send(negative[side], option);
        }
        return;
      case 'yes':
        return;
      case 'wantno':
        this.hooks.onProblem?.(`option ${option} (${side}) enabled in answer to a refusal`);
        s.state = s.opposite ? 'yes' : 'no';
        s.opposite = false;
        this.changed(option, side, s.state === 'yes');
        return;
      case 'wantyes':
        if (s.opposite) {
          s.state = 'wantno';
          s.opposite = false;
          this.hooks.send(negative[side], option);
        } else {
          s.state = 'yes';
          this.changed(option, side, true);
        }
        return;
    }
  }

  private receiveNegative(option: number, side: OptionSide): void {
    const s = this.get(option, side);
    switch (s.state) {
      case 'no':
        return;
      case 'yes':
        s.state = 'no';
        this.hooks.send(negative[side], option);
        this.changed(option, side, false);
        return;
      case 'wantno':
        if (s.opposite) {
          s.state = 'wantyes';
          s.opposite = false;
          this.hooks.send(positive[side], option);
        } else {
          s.state = 'no';
          this.changed(option, side, false);
        }
        return;
      case 'wantyes':
        s.state = 'no';
        s.opposite = false;
        this.changed(option, side, false);
        return;
    }
  }

  private changed(option: number, side: OptionSide, enabled: boolean): void {
    this.hooks.onChange({ option, side, enabled });
  }

  private get(option: number, side: OptionSide): SideState {
    let entry = this.options.get(option);
    if (!entry) {
      entry = { local: { state: 'no', opposite: false }, remote: { state: 'no', opposite: false } };
      this.options.set(option, entry);
    }
    return entry[side];
  }
}

import { Parity, SetControl, StopSize, type ComPortMessage } from './rfc2217.js';

/** Server signature sent when a client asks for it (empty SIGNATURE). */
export const LIFELINE_SIGNATURE = 'lifeline';

/**
 * The server half of RFC 2217's request/reply rule: every command gets the matching +100 reply,
 * echoing what was set, and a request for the current value (value 0, or the SET-CONTROL request
 * values) gets the last value set, or a sensible default. The settings are only remembered: the
 * console behind the agent decides what it can apply, and a client such as pyserial waits for
 * these replies before it carries on.
 */
export class ComPortResponder {
  private readonly settings = new Map<string, number>([
    ['set-baudrate', 0],
    ['set-datasize', 8],
    ['set-parity', Parity.NONE],
    ['set-stopsize', StopSize.ONE],
    ['set-linestate-mask', 0],
    ['set-modemstate-mask', 0],
  ]);
  private flow: number = SetControl.FLOW_NONE;
  private inboundFlow: number = SetControl.INBOUND_FLOW_NONE;
  private brk: number = SetControl.BREAK_OFF;
  private dtr: number = SetControl.DTR_ON;
  private rts: number = SetControl.RTS_ON;

  /** The reply to a client command, or undefined when none is due (notifications, replies). */
  reply(request: ComPortMessage): ComPortMessage | undefined {
    if (request.fromServer) return undefined;
    const { command } = request;
    switch (command) {
      case 'signature':
        return request.text ? undefined : { command, fromServer: true, text: LIFELINE_SIGNATURE };
      case 'flowcontrol-suspend':
      case 'flowcontrol-resume':
        return undefined;
      case 'notify-linestate':
      case 'notify-modemstate':
        // Clients poll with these; a console without modem lines has nothing to report.
        return { command, fromServer: true, value: 0 };
      case 'purge-data':
        return { command, fromServer: true, value: request.value ?? 0 };
      case 'set-control':
        return { command, fromServer: true, value: this.control(request.value ?? 0) };
      case 'set-baudrate':
      case 'set-datasize':
      case 'set-parity':
      case 'set-stopsize':
      case 'set-linestate-mask':
      case 'set-modemstate-mask': {
        const value = request.value ?? 0;
        const asksCurrent = value === 0 && command !== 'set-linestate-mask' && command !== 'set-modemstate-mask';
        if (!asksCurrent) this.settings.set(command, value);
        return { command, fromServer: true, value: this.settings.get(command) ?? 0 };
      }
    }
  }

  /** Records a SET-CONTROL value and returns the value to reply with. */
  private control(value: number): number {
    switch (value) {
      case SetControl.REQUEST_FLOW:
        return this.flow;
      case SetControl.REQUEST_BREAK:
        return this.brk;
      case SetControl.REQUEST_DTR:
        return this.dtr;
      case SetControl.REQUEST_RTS:
        return this.rts;
      case SetControl.REQUEST_INBOUND_FLOW:
        return this.inboundFlow;
      case SetControl.FLOW_NONE:
      case SetControl.FLOW_XONXOFF:
      case SetControl.FLOW_HARDWARE:
      case SetControl.FLOW_DCD:
      case SetControl.FLOW_DTR:
      case SetControl.FLOW_DSR:
        this.flow = value;
        return value;
      case SetControl.BREAK_ON:
      case SetControl.BREAK_OFF:
        this.brk = value;
        return value;
      case SetControl.DTR_ON:
      case SetControl.DTR_OFF:
        this.dtr = value;
        return value;
      case SetControl.RTS_ON:
      case SetControl.RTS_OFF:
        this.rts = value;
        return value;
      case SetControl.INBOUND_FLOW_NONE:
      case SetControl.INBOUND_FLOW_XONXOFF:
      case SetControl.INBOUND_FLOW_HARDWARE:
        this.inboundFlow = value;
        return value;
      default:
        return value;
    }
  }
}

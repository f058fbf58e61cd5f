import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

export type TrackedChannel = ReturnType<typeof trackChannel>;

/**
 * Opens a shell and starts tracking it inside ssh2's callback: exit-status can arrive in the same
 * packet batch as the shell reply, before an awaiting caller would get to add listeners.
 */
export function openShell(
  client: ssh2.Client,
  pty: ssh2.PseudoTtyOptions | false = { term: 'xterm-256color', cols: 100, rows: 30 },
): Promise<TrackedChannel> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | undefined, channel: ssh2.ClientChannel) => (err ? reject(err) : resolve(trackChannel(channel)));
    if (pty) client.shell(pty, cb);
    else client.shell(false, cb);
  });
}

/** Collects a channel's output and its exit code. */
export function trackChannel(channel: ssh2.ClientChannel) {
  let out = '';
  channel.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const exit = new Promise<number | null>((resolve) => channel.on('exit', (code: number | null) => resolve(code)));
  const closed = new Promise<void>((resolve) => channel.on('close', () => resolve()));
  return {
    channel,
    text: () => out,
    exit,
    closed,
    async waitFor(s: string, ms = 5_000) {
      const start = Date.now();
      while (!out.includes(s)) {
        if (Date.now() - start > ms) throw new Error(`no ${JSON.stringify(s)} in output ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

interface ClientChannelInternals {
  outgoing: { id: number };
  _callbacks: Array<(failed: boolean) => void>;
  _client: { _protocol: { _packetRW: { write: { allocStart: number; alloc(n: number): Buffer; finalize(p: Buffer): Buffer } } } };
}

/**
 * Sends an RFC 4335 `break` request (uint32 length in ms) on a client channel. ssh2's client has
 * no API for it, so this builds the packet through its internals (test-only). With `wantReply`
 * it resolves true for CHANNEL_SUCCESS and false for CHANNEL_FAILURE; stock clients (OpenSSH,
 * PuTTY) never ask for a reply, which is the path the OpenSSH test covers.
 */
export function sendBreakRequest(channel: ssh2.ClientChannel, lengthMs: number, wantReply: boolean): Promise<boolean | undefined> {
  const { sendPacket } = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
    sendPacket(proto: unknown, packet: Buffer): void;
  };
  const ch = channel as unknown as ClientChannelInternals;
  const proto = ch._client._protocol;
  const type = Buffer.from('break');
  const p = proto._packetRW.write.allocStart;
  const packet = proto._packetRW.write.alloc(1 + 4 + 4 + type.length + 1 + 4);
  packet[p] = 98; // SSH_MSG_CHANNEL_REQUEST
  packet.writeUInt32BE(ch.outgoing.id, p + 1);
  packet.writeUInt32BE(type.length, p + 5);
  type.copy(packet, p + 9);
  packet[p + 9 + type.length] = wantReply ? 1 : 0;
  packet.writeUInt32BE(lengthMs, p + 10 + type.length);
  return new Promise((resolve) => {
    if (wantReply) ch._callbacks.push((failed) => resolve(!failed));
    sendPacket(proto, proto._packetRW.write.finalize(packet));
    if (!wantReply) resolve(undefined);
  });
}

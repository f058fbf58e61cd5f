import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AGENT_LOGIN_NAME, PEER_LOGIN_NAME, silentLogger } from '@lifeline/shared';
import { FakeClock } from '@lifeline/shared/testing';
import ssh2 from 'ssh2';
import { Authenticator, type Identity } from './authenticator.js';
import { HashGate } from './hash-gate.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordChecker } from './password-checker.js';
import { hashPassword, verifyPassword, type ParsedPasswordHash } from './password-hash.js';
import { testInventoryView } from '../inventory/testing/test-inventory.js';
import { generateUsableKeyPair } from './testing/relay-test-harness.js';

const cheap = { N: 1024, r: 8, p: 1 };
const PEER = { address: '192.0.2.7', port: 50000 };

function keyPair() {
  const pair = generateUsableKeyPair('test');
  const priv = ssh2.utils.parseKey(pair.private) as ssh2.ParsedKey;
  return { line: pair.public, priv, blob: priv.getPublicSSH() };
}
const aliceKey = keyPair();
const agentKey = keyPair();
const otherKey = keyPair();

/** More people for setup(), on dev1 with no keys. */
type UserConfig = { name: string; password?: string; escapeChar?: string };

async function setup(
  auth = { failureDelayMs: 1_000, maxFailuresPerWindow: 3, windowMs: 60_000 },
  others: UserConfig[] = [],
  group: { peerKey?: ssh2.ParsedKey } = {},
) {
  const clock = new FakeClock(1_000);
  const throttle = new LoginThrottle(auth, clock);
  const agentThrottle = new LoginThrottle({ ...auth, maxFailuresPerWindow: 2 }, clock);
  const gate = new HashGate({ perAddress: 1, total: 2 });
  const hashed: string[] = [];
  const verify = (password: string, stored: ParsedPasswordHash) => (hashed.push(password), verifyPassword(password, stored));
  const authenticator = new Authenticator({
    inventory: testInventoryView({
      escapeChar: '^]',
      users: [
        {
          name: 'alice',
          password: await hashPassword('right', cheap),
          authorizedKeys: [aliceKey.line],
          devices: ['dev1', 'dev2'],
          role: 'engineer' as const,
        },
        ...others.map((u) => ({ authorizedKeys: [], devices: ['dev1'], role: 'engineer' as const, ...u })),
      ],
      devices: [
        { id: 'dev1', agentKey: agentKey.line, breakMs: 500, maxBreakMs: 3000 },
        { id: 'dev2', agentKey: agentKey.line, breakMs: 500, maxBreakMs: 3000 },
        { id: 'dev3', agentKey: otherKey.line, breakMs: 500, maxBreakMs: 3000 },
      ],
    }),
    throttles: { people: throttle, agents: agentThrottle },
    passwords: new PasswordChecker(gate, verify),
    clock,
    logger: silentLogger(),
    ...group,
  });
  return { clock, throttle, agentThrottle, gate, hashed, authenticator };
}

/** A stand-in for ssh2's auth contexts: records how it was answered. */
function fakeCtx(username: string, method: string, fields: Record<string, unknown> = {}) {
  const answers: string[] = [];
  const ctx = Object.assign(new EventEmitter(), {
    username,
    method,
    service: 'ssh-connection',
    accept: () => answers.push('accept'),
    reject: (methods?: string[]) => answers.push(`reject ${methods?.join(',')}`),
    ...fields,
  });
  return { ctx: ctx as unknown as ssh2.AuthContext, answers };
}

function signed(username: string, key: { priv: ssh2.ParsedKey; blob: Buffer }, signer = key.priv) {
  const blob = Buffer.from(`session-id-and-request-for-${username}`);
  return fakeCtx(username, 'publickey', { key: { algo: 'ssh-ed25519', data: key.blob }, blob, signature: signer.sign(blob) });
}

/** Runs an attempt through its failure delay on the fake clock. */
async function attempt(env: Awaited<ReturnType<typeof setup>>, ctx: ssh2.AuthContext, onAccepted?: (i: Identity) => void) {
  const pending = env.authenticator.authenticate(ctx, PEER, onAccepted);
  let settled = false;
  void pending.finally(() => (settled = true));
  while (!settled) {
    await new Promise((r) => setTimeout(r, 5));
    if (env.clock.pendingTimers > 0) await env.clock.advance(1_000);
  }
  return pending;
}

describe('Authenticator: people', () => {
  it('accepts the right password and names user and device, telling the caller before accepting', async () => {
    const env = await setup();
    const { ctx, answers } = fakeCtx('alice:dev2', 'password', { password: 'right' });
    const seen: string[] = [];
    const outcome = await attempt(env, ctx, (identity) => seen.push(`${JSON.stringify(identity)} with answers ${answers.length}`));
    expect(outcome).toEqual({
      result: 'accepted',
      identity: { kind: 'person', user: 'alice', deviceId: 'dev2', attachAs: 'participant', method: 'password', escapeByte: 0x1d },
    });
    expect(answers).toEqual(['accept']);
    expect(seen).toEqual([`${JSON.stringify(outcome.result === 'accepted' && outcome.identity)} with answers 0`]);
  });

  it("gives each person their own escape key, else the relay's; none is no escape key", async () => {
    const password = await hashPassword('pw', cheap);
    const env = await setup(undefined, [
      { name: 'tom', password, escapeChar: 'none' },
      { name: 'ann', password, escapeChar: '^A' },
    ]);
    const escapeOf = async (user: string, pw: string) => {
      const outcome = await attempt(env, fakeCtx(user, 'password', { password: pw }).ctx);
      return outcome.result === 'accepted' && outcome.identity.kind === 'person' ? outcome.identity.escapeByte : 'not accepted';
    };
    expect(await escapeOf('tom', 'pw')).toBeUndefined();
    expect(await escapeOf('ann', 'pw')).toBe(0x01);
    expect(await escapeOf('alice', 'right')).toBe(0x1d);
  });

  it('waits the failure delay before refusing a wrong password, and advertises the methods', async () => {
    const env = await setup();
    const { ctx, answers } = fakeCtx('alice', 'password', { password: 'wrong' });
    const pending = env.authenticator.authenticate(ctx, PEER);
    while (env.clock.pendingTimers === 0) await new Promise((r) => setTimeout(r, 5));
    expect(answers).toEqual([]);
    await env.clock.advance(999);
    expect(answers).toEqual([]);
    await env.clock.advance(1);
    expect(await pending).toEqual({ result: 'rejected' });
    expect(answers).toEqual(['reject publickey,keyboard-interactive,password']);
  });

  it('answers an unknown user exactly like a wrong password, delay included', async () => {
    const env = await setup();
    const { ctx, answers } = fakeCtx('mallory', 'password', { password: 'x' });
    const pending = env.authenticator.authenticate(ctx, PEER);
    while (env.clock.pendingTimers === 0) await new Promise((r) => setTimeout(r, 5));
    expect(answers).toEqual([]);
    await env.clock.advance(1_000);
    expect(await pending).toEqual({ result: 'rejected' });
    expect(answers).toEqual(['reject publickey,keyboard-interactive,password']);
  });

  it('blocks the address at the Nth failure and refuses it at once afterwards, right password or not', async () => {
    const env = await setup();
    expect(await attempt(env, fakeCtx('alice', 'password', { password: 'a' }).ctx)).toEqual({ result: 'rejected' });
    expect(await attempt(env, fakeCtx('nobody', 'password', { password: 'b' }).ctx)).toEqual({ result: 'rejected' });
    expect(await attempt(env, fakeCtx('alice', 'password', { password: 'c' }).ctx)).toEqual({ result: 'blocked' });
    const { ctx, answers } = fakeCtx('alice', 'password', { password: 'right' });
    expect(await env.authenticator.authenticate(ctx, PEER)).toEqual({ result: 'blocked' });
    expect(answers).toEqual(['reject publickey,keyboard-interactive,password']);
    expect(
      await env.authenticator.authenticate(fakeCtx('alice', 'password', { password: 'right' }).ctx, { ...PEER, address: '192.0.2.8' }),
    ).toMatchObject({
      result: 'accepted',
    });
  });

  it('reserves a check before hashing, so parallel wrong passwords past the limit are refused unhashed', async () => {
    const env = await setup();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => attempt(env, fakeCtx('alice', 'password', { password: `guess-${i}` }).ctx)),
    );
    expect(env.hashed).toHaveLength(3);
    expect(outcomes.filter((o) => o.result === 'rejected')).toHaveLength(2);
    expect(outcomes.filter((o) => o.result === 'blocked')).toHaveLength(8);
    expect(env.gate.peak).toBe(1);
  });

  it('lets more parallel right passwords from one address log in than the failure limit', async () => {
    const env = await setup();
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => attempt(env, fakeCtx('alice', 'password', { password: 'right' }).ctx)),
    );
    expect(outcomes.every((o) => o.result === 'accepted')).toBe(true);
  });

  it('hashes for an unknown user too, through the same gate', async () => {
    const env = await setup();
    await attempt(env, fakeCtx('mallory', 'password', { password: 'x' }).ctx);
    expect(env.hashed).toEqual(['x']);
  });

  it('does not count a successful login against the address', async () => {
    const env = await setup();
    for (let i = 0; i < 5; i++)
      expect(await attempt(env, fakeCtx('alice', 'password', { password: 'right' }).ctx)).toMatchObject({ result: 'accepted' });
    expect(env.throttle.isBlocked(PEER.address)).toBe(false);
  });

  it('does not count `none` or an unauthorised key probe as failures', async () => {
    const env = await setup({ failureDelayMs: 1_000, maxFailuresPerWindow: 1, windowMs: 60_000 });
    const none = fakeCtx('alice', 'none');
    expect(await env.authenticator.authenticate(none.ctx, PEER)).toEqual({ result: 'rejected' });
    expect(none.answers).toEqual(['reject publickey,keyboard-interactive,password']);
    const probe = fakeCtx('alice', 'publickey', { key: { algo: 'ssh-ed25519', data: otherKey.blob } });
    expect(await env.authenticator.authenticate(probe.ctx, PEER)).toEqual({ result: 'rejected' });
    expect(env.throttle.isBlocked(PEER.address)).toBe(false);
    expect(env.clock.pendingTimers).toBe(0);
  });

  it('answers a probe for an authorised key with accept (PK_OK) without logging in', async () => {
    const env = await setup();
    const probe = fakeCtx('alice', 'publickey', { key: { algo: 'ssh-ed25519', data: aliceKey.blob } });
    expect(await env.authenticator.authenticate(probe.ctx, PEER)).toEqual({ result: 'rejected' });
    expect(probe.answers).toEqual(['accept']);
  });

  it('accepts a correctly signed authorised key', async () => {
    const env = await setup();
    const outcome = await attempt(env, signed('alice', aliceKey).ctx);
    expect(outcome).toMatchObject({
      result: 'accepted',
      identity: { kind: 'person', user: 'alice', method: 'publickey', keyFingerprint: expect.stringMatching(/^SHA256:/) },
    });
  });

  it('refuses an authorised key with a signature made by another key', async () => {
    const env = await setup();
    const { ctx, answers } = signed('alice', aliceKey, otherKey.priv);
    expect(await attempt(env, ctx)).toEqual({ result: 'rejected' });
    expect(answers).toEqual(['reject publickey,keyboard-interactive,password']);
    // It counted: two more failures reach the limit of three.
    env.throttle.recordFailure(PEER.address);
    expect(env.throttle.recordFailure(PEER.address).blocked).toBe(true);
  });

  it('asks keyboard-interactive for a hidden password and checks the answer', async () => {
    const env = await setup();
    const asked: unknown[] = [];
    const ki = (answer: string) =>
      fakeCtx('alice', 'keyboard-interactive', {
        prompt: (prompts: unknown[], cb: (a: string[]) => void) => {
          asked.push(prompts);
          cb([answer]);
        },
      });
    expect(await attempt(env, ki('right').ctx)).toMatchObject({ result: 'accepted' });
    expect(asked).toEqual([[{ prompt: 'Password: ', echo: false }]]);
    expect(await attempt(env, ki('wrong').ctx)).toEqual({ result: 'rejected' });
  });

  it('leaves a keyboard-interactive attempt the client abandoned unanswered and uncounted', async () => {
    const env = await setup();
    const { ctx, answers } = fakeCtx('alice', 'keyboard-interactive', {
      prompt: (_p: unknown, cb: (a: Error) => void) => cb(new Error('Authentication request aborted')),
    });
    expect(await env.authenticator.authenticate(ctx, PEER)).toEqual({ result: 'rejected' });
    expect(answers).toEqual([]);
    expect(env.clock.pendingTimers).toBe(0);
  });
});

describe('Authenticator: agents', () => {
  it('identify an agent by every device naming its key', async () => {
    const env = await setup();
    const outcome = await attempt(env, signed(AGENT_LOGIN_NAME, agentKey).ctx);
    expect(outcome).toMatchObject({
      result: 'accepted',
      identity: { kind: 'agent', deviceIds: ['dev1', 'dev2'], fingerprint: expect.stringMatching(/^SHA256:/) },
    });
  });

  it('refuse an agent key no device names, and a person key', async () => {
    const env = await setup();
    expect(await attempt(env, signed(AGENT_LOGIN_NAME, aliceKey).ctx)).toEqual({ result: 'rejected' });
  });

  it('offer agents publickey only, and hash no password for them', async () => {
    const env = await setup();
    const { ctx, answers } = fakeCtx(AGENT_LOGIN_NAME, 'password', { password: 'right' });
    expect(await attempt(env, ctx)).toEqual({ result: 'rejected' });
    expect(answers).toEqual(['reject publickey']);
    expect(env.hashed).toEqual([]);
  });

  it('log an agent in from an address people have locked out', async () => {
    const env = await setup();
    for (const pw of ['a', 'b', 'c']) await attempt(env, fakeCtx('alice', 'password', { password: pw }).ctx);
    expect(env.throttle.isBlocked(PEER.address)).toBe(true);
    expect(await attempt(env, signed(AGENT_LOGIN_NAME, agentKey).ctx)).toMatchObject({ result: 'accepted', identity: { kind: 'agent' } });
  });

  it("count a stranger's unknown keys apart from an enrolled key at the same address", async () => {
    const env = await setup();
    expect(await attempt(env, signed(AGENT_LOGIN_NAME, aliceKey).ctx)).toEqual({ result: 'rejected' });
    expect(await attempt(env, signed(AGENT_LOGIN_NAME, aliceKey).ctx)).toEqual({ result: 'blocked' });
    expect(await attempt(env, signed(AGENT_LOGIN_NAME, aliceKey).ctx)).toEqual({ result: 'blocked' });
    expect(await attempt(env, signed(AGENT_LOGIN_NAME, agentKey).ctx)).toMatchObject({ result: 'accepted' });
    // People at that address are not affected by agent failures either.
    expect(env.throttle.isBlocked(PEER.address)).toBe(false);
  });
});

describe('Authenticator: other members of a relay group', () => {
  const groupKey = keyPair();

  it('log in as lifeline-relay with the group host key, signed', async () => {
    const env = await setup(undefined, [], { peerKey: groupKey.priv });
    expect(await attempt(env, signed(PEER_LOGIN_NAME, groupKey).ctx)).toEqual({ result: 'accepted', identity: { kind: 'peer' } });
  });

  it('are refused with any other key (an agent key, a person key, a signature by another key)', async () => {
    const env = await setup(undefined, [], { peerKey: groupKey.priv });
    expect(await attempt(env, signed(PEER_LOGIN_NAME, agentKey).ctx)).toEqual({ result: 'rejected' });
    expect(await attempt(env, signed(PEER_LOGIN_NAME, aliceKey).ctx)).toEqual({ result: 'rejected' });
    expect(await attempt(env, signed(PEER_LOGIN_NAME, groupKey, otherKey.priv).ctx)).toEqual({ result: 'blocked' });
  });

  it('are refused on a relay alone, even with its host key', async () => {
    const env = await setup();
    const { ctx, answers } = signed(PEER_LOGIN_NAME, groupKey);
    expect(await attempt(env, ctx)).toEqual({ result: 'rejected' });
    expect(answers).toEqual(['reject publickey']);
  });

  it('are offered publickey only, with no password hashed', async () => {
    const env = await setup(undefined, [], { peerKey: groupKey.priv });
    const { ctx, answers } = fakeCtx(PEER_LOGIN_NAME, 'password', { password: 'right' });
    expect(await attempt(env, ctx)).toEqual({ result: 'rejected' });
    expect(answers).toEqual(['reject publickey']);
    expect(env.hashed).toEqual([]);
  });
});

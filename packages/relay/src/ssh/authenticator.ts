import {
  AGENT_LOGIN_NAME,
  ENROL_LOGIN_NAME,
  PEER_LOGIN_NAME,
  fingerprintOfBlob,
  isLifelineError,
  parsePublicKeyLine,
  peerText,
  type Clock,
  type Logger,
} from '@lifeline/shared/core';
import type { AuthContext, AuthenticationType, KeyboardAuthContext, ParsedKey, PublicKeyAuthContext } from 'ssh2';
import type { InventoryView } from '../inventory/live-inventory.js';
import type { AttachmentKind } from '../session/person.js';
import { parseLoginName } from './login-name.js';
import type { LoginAttempt, LoginThrottle } from './login-throttle.js';
import type { PasswordChecker } from './password-checker.js';
import { personAuthMethods } from './person-auth-methods.js';

/** Who a connection turned out to be once authenticated. */
export type Identity =
  | {
      kind: 'person';
      user: string;
      /** From a `USER:DEVICE` login; undefined for plain `USER`. */
      deviceId: string | undefined;
      /** `observer` for `USER:DEVICE:watch` (read-only on purpose), else `participant`. */
      attachAs: AttachmentKind;
      method: AuthenticationType;
      /** Set when the person logged in with a key. */
      keyFingerprint?: string;
      /** Their escape key byte in pty sessions (their `escapeChar`, else the relay's); undefined for `none`. */
      escapeByte: number | undefined;
    }
  | {
      kind: 'agent';
      /** Every device the agent's key served at login (never empty); what it may serve later is asked of the current inventory. */
      deviceIds: readonly string[];
      fingerprint: string;
    }
  | {
      /** `lifeline-relay`: another member of this relay's group, proved by the group's host key (ssh/peer-connection.ts). */
      kind: 'peer';
    }
  | {
      /** `lifeline-enrol`: a new agent that proved it holds this key; it may only ask to enrol it. */
      kind: 'enrol';
      /** `ssh-ed25519 AAAA...` */
      publicKey: string;
      fingerprint: string;
    };

export type AuthOutcome =
  | { result: 'accepted'; identity: Identity }
  /** Rejected (or superseded by the client's next attempt); the client may try again. */
  | { result: 'rejected' }
  /** The source address (for agents: address and key) has used up its failed logins: end the connection. */
  | { result: 'blocked' };

/** The two throttles: one class, configured twice (`auth` and `auth.agents`). */
export interface LoginThrottles {
  /** People's failed logins, per source address. */
  people: LoginThrottle;
  /**
   * Agents' failed key logins, per source address and key (an unknown key counts for its address),
   * so neither people's failures nor a stranger's keys from a shared NAT address lock an agent out.
   */
  agents: LoginThrottle;
}

export interface AuthenticatorOptions {
  /** Who may log in, asked afresh at every attempt: a reload applies to the next login. */
  inventory: InventoryView;
  throttles: LoginThrottles;
  /** Every password check goes through it (bounded scrypt work). */
  passwords: PasswordChecker;
  clock: Clock;
  logger: Logger;
  /**
   * A relay group member's host key, the group's: the one key `lifeline-relay` (another member)
   * may log in with. A relay alone has none, and refuses that login as an unknown user.
   */
  peerKey?: ParsedKey;
}

/** Where a login comes from. */
export interface AuthPeer {
  address: string;
  port: number;
  /** Aborts when the connection closes: a password still waiting for a hash slot is then dropped. */
  closed?: AbortSignal;
  /** The client's software version from its SSH identification, e.g. `PuTTY_Release_0.78`. */
  client?: string;
}

const AGENT_METHODS: AuthenticationType[] = ['publickey'];

/**
 * Decides SSH logins. People use a password (also asked through keyboard-interactive, which
 * PuTTY tries first) or a key from `authorizedKeys`; agents log in as `lifeline-agent` with the
 * key some devices name as their `agentKey`. Unknown users and wrong passwords look the same to
 * the client, in answer and in time. Calls `ctx.accept()`/`ctx.reject()` itself.
 */
export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /**
   * Decides one login attempt and answers it (`ctx.accept()`/`ctx.reject()`). `onAccepted` runs
   * just before the accept, because ssh2 emits `'ready'` synchronously inside it.
   */
  async authenticate(ctx: AuthContext, peer: AuthPeer, onAccepted?: (identity: Identity) => void): Promise<AuthOutcome> {
    const isAgent = ctx.username === AGENT_LOGIN_NAME;
    const isEnrol = ctx.username === ENROL_LOGIN_NAME;
    const isPeer = ctx.username === PEER_LOGIN_NAME;
    const methods = isAgent || isEnrol || isPeer ? AGENT_METHODS : personAuthMethods(peer.client);
    // Enrolment counts with people (per address): a token guess is as much a guess as a password.
    const throttle = isAgent ? this.options.throttles.agents : this.options.throttles.people;
    const key = isAgent ? this.agentThrottleKey(ctx, peer) : peer.address;
    const refuseThrottled = (): AuthOutcome => {
      this.log(ctx, peer, 'warn', 'auth.failure', 'address-throttled');
      ctx.reject(methods);
      return { result: 'blocked' };
    };
    if (key !== undefined && throttle.isBlocked(key)) return refuseThrottled();
    // A password attempt reserves its check before its hash runs (see decidePerson), so a burst
    // of parallel attempts gets no more hashes than the throttle has failures left.
    let attempt: LoginAttempt | undefined;
    const begin = async () => (attempt = key === undefined ? undefined : await throttle.begin(key, peer.closed)) !== undefined;
    let decision: Decision;
    try {
      decision = isAgent
        ? await this.decideAgent(ctx)
        : isEnrol
          ? decideEnrol(ctx)
          : isPeer
            ? decidePeer(ctx, this.options.peerKey)
            : await this.decidePerson(ctx, peer, begin);
    } catch (err) {
      attempt?.withdraw();
      // The client hung up while its password waited for its turn: nobody left to answer.
      if (peer.closed?.aborted) return { result: 'rejected' };
      throw err;
    }
    if ('identity' in decision) {
      attempt?.withdraw();
      onAccepted?.(decision.identity);
      ctx.accept();
      // An agent's login is logged at info level once, as its tunnel.up (key, address, device):
      // with thousands of agents reconnecting, one line per login is what a log can carry.
      this.options.logger[decision.identity.kind === 'agent' ? 'debug' : 'info'](
        { event: 'auth.success', user: peerText(ctx.username), peer: peerName(peer), method: ctx.method, ...summary(decision.identity) },
        'login accepted',
      );
      return { result: 'accepted', identity: decision.identity };
    }
    if (decision.outcome === 'blocked') return refuseThrottled();
    if (decision.outcome === 'probe-ok') {
      // A key offered without signature that we would accept: "go ahead and sign" (USERAUTH_PK_OK).
      ctx.accept();
      return { result: 'rejected' };
    }
    if (decision.outcome === 'superseded') return { result: 'rejected' };
    if (decision.outcome === 'not-a-try') {
      // `none` to learn the methods, a key probe, a method we do not offer: no secret was tried.
      this.log(ctx, peer, 'debug', 'auth.method-refused', decision.reason);
      ctx.reject(methods);
      return { result: 'rejected' };
    }
    const verdict = attempt ? attempt.failed() : throttle.recordFailure(key ?? peer.address);
    this.log(ctx, peer, 'info', 'auth.failure', decision.reason);
    if (verdict.delayMs > 0) await this.options.clock.sleep(verdict.delayMs);
    ctx.reject(methods);
    if (!verdict.blocked) return { result: 'rejected' };
    this.options.logger.warn(
      { event: 'auth.throttled', peer: peerName(peer) },
      'too many failed logins from this address; refusing it for a while',
    );
    return { result: 'blocked' };
  }

  /** `begin` reserves the attempt's check with the throttle; false when the address is blocked. */
  private async decidePerson(ctx: AuthContext, peer: AuthPeer, begin: () => Promise<boolean>): Promise<Decision> {
    let user: string | undefined;
    let deviceId: string | undefined;
    let attachAs: AttachmentKind = 'participant';
    let badName: string | undefined;
    try {
      ({ user, deviceId, attachAs } = parseLoginName(ctx.username));
    } catch (err) {
      if (!isLifelineError(err, 'AUTH_FAILED')) throw err;
      badName = err.message;
    }
    const entry = user === undefined ? undefined : this.options.inventory.current().user(user);
    const unknown = badName ?? (entry ? undefined : 'unknown-user');
    const person = (keyFingerprint?: string): Decision => ({
      identity: {
        kind: 'person',
        user: user!,
        deviceId,
        attachAs,
        method: ctx.method,
        ...(keyFingerprint ? { keyFingerprint } : {}),
        escapeByte: entry!.escapeByte,
      },
    });

    switch (ctx.method) {
      case 'password':
      case 'keyboard-interactive': {
        const password = ctx.method === 'password' ? ctx.password : await askPassword(ctx);
        if (password === undefined) return { outcome: 'superseded' };
        if (!(await begin())) return { outcome: 'blocked' };
        // Unknown users and users without a password cost the same hash (and always fail).
        const stored = unknown ? undefined : entry?.password;
        const ok = await this.options.passwords.check(peer.address, password, stored, peer.closed);
        if (unknown || !entry) return { outcome: 'failure', reason: unknown ?? 'unknown-user' };
        if (!entry.password) return { outcome: 'failure', reason: 'user-has-no-password' };
        return ok ? person() : { outcome: 'failure', reason: 'wrong-password' };
      }
      case 'publickey': {
        const key = entry?.authorizedKeys.find((k) => k.is(ctx.key.data));
        if (!ctx.signature) return key ? { outcome: 'probe-ok' } : { outcome: 'not-a-try', reason: 'key-probe-not-authorised' };
        if (unknown || !key) return { outcome: 'failure', reason: unknown ?? 'key-not-authorised' };
        return signatureOk(key.key(), ctx) ? person(fingerprintOfBlob(ctx.key.data)) : { outcome: 'failure', reason: 'bad-signature' };
      }
      default:
        return { outcome: 'not-a-try', reason: `method ${ctx.method} not offered` };
    }
  }

  private async decideAgent(ctx: AuthContext): Promise<Decision> {
    // No hash for a password: agents have none, and everyone knows the agent login name anyway.
    if (ctx.method !== 'publickey') return { outcome: 'not-a-try', reason: `method ${ctx.method} not offered to agents` };
    const match = this.options.inventory.current().agentKey(ctx.key.data);
    if (!ctx.signature) return match ? { outcome: 'probe-ok' } : { outcome: 'not-a-try', reason: 'key-probe-not-authorised' };
    if (!match) return { outcome: 'failure', reason: 'agent-key-unknown' };
    if (!signatureOk(match.key.key(), ctx)) return { outcome: 'failure', reason: 'bad-signature' };
    return { identity: { kind: 'agent', deviceIds: match.deviceIds, fingerprint: match.fingerprint } };
  }

  /**
   * What an agent's key login is counted under: its address and key when the key is enrolled,
   * its address alone otherwise; undefined when no key is offered (nothing to count).
   */
  private agentThrottleKey(ctx: AuthContext, peer: AuthPeer): string | undefined {
    if (ctx.method !== 'publickey') return undefined;
    const known = this.options.inventory.current().agentKey(ctx.key.data) !== undefined;
    return known ? `${peer.address} ${fingerprintOfBlob(ctx.key.data)}` : `${peer.address} unknown-key`;
  }

  private log(ctx: AuthContext, peer: AuthPeer, level: 'debug' | 'info' | 'warn', event: string, reason: string): void {
    // The login name is client-chosen text.
    this.options.logger[level]({ event, user: peerText(ctx.username), peer: peerName(peer), method: ctx.method, reason }, 'login refused');
  }
}

/**
 * `lifeline-enrol` takes any Ed25519 key whose signature verifies: the key is what the agent will
 * enrol, and the login proves it holds the private half. What it may then do is one request
 * through the enrolment subsystem, where the token is checked (enrol-connection.ts).
 */
function decideEnrol(ctx: AuthContext): Decision {
  if (ctx.method !== 'publickey') return { outcome: 'not-a-try', reason: `method ${ctx.method} not offered for enrolment` };
  if (ctx.key.algo !== 'ssh-ed25519') return { outcome: 'not-a-try', reason: 'enrolment takes Ed25519 keys only' };
  if (!ctx.signature) return { outcome: 'probe-ok' };
  const publicKey = `${ctx.key.algo} ${ctx.key.data.toString('base64')}`;
  if (!signatureOk(parsePublicKeyLine(publicKey), ctx)) return { outcome: 'failure', reason: 'bad-signature' };
  return { identity: { kind: 'enrol', publicKey, fingerprint: fingerprintOfBlob(ctx.key.data) } };
}

/** `lifeline-relay` takes the group's host key alone, with its signature; a relay alone takes no key. */
function decidePeer(ctx: AuthContext, groupKey: ParsedKey | undefined): Decision {
  if (ctx.method !== 'publickey') return { outcome: 'not-a-try', reason: `method ${ctx.method} not offered to group members` };
  const known = groupKey !== undefined && ctx.key.data.equals(groupKey.getPublicSSH());
  if (!ctx.signature) return known ? { outcome: 'probe-ok' } : { outcome: 'not-a-try', reason: 'key-probe-not-authorised' };
  if (!known) return { outcome: 'failure', reason: groupKey ? 'not-the-group-key' : 'not-in-a-relay-group' };
  return signatureOk(groupKey, ctx) ? { identity: { kind: 'peer' } } : { outcome: 'failure', reason: 'bad-signature' };
}

type Decision =
  | { identity: Identity }
  | { outcome: 'probe-ok' }
  | { outcome: 'superseded' }
  /** The throttle refused to count (and so to check) the attempt. */
  | { outcome: 'blocked' }
  | { outcome: 'not-a-try' | 'failure'; reason: string };

function signatureOk(key: ParsedKey, ctx: PublicKeyAuthContext): boolean {
  return ctx.signature !== undefined && ctx.blob !== undefined && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}

/** One hidden "Password: " prompt; undefined when the client gave up on it (sent another request). */
function askPassword(ctx: KeyboardAuthContext): Promise<string | undefined> {
  return new Promise((resolve) => {
    // ssh2 calls back with an Error when the client abandons the prompt for another attempt.
    ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers: string[] | Error) => {
      resolve(answers instanceof Error ? undefined : (answers[0] ?? ''));
    });
  });
}

function peerName(peer: AuthPeer): string {
  return `${peer.address}:${peer.port}`;
}

function summary(identity: Identity): Record<string, unknown> {
  if (identity.kind === 'peer') return {};
  if (identity.kind === 'enrol') return { fingerprint: identity.fingerprint };
  return identity.kind === 'agent'
    ? { deviceIds: identity.deviceIds, fingerprint: identity.fingerprint }
    : { deviceId: identity.deviceId === undefined ? undefined : peerText(identity.deviceId), keyFingerprint: identity.keyFingerprint };
}

import {
  Backoff,
  LifelineError,
  printable,
  systemClock,
  type Clock,
  type Logger,
  type PowerAction,
  type RelayDeviceConfig,
} from '@lifeline/shared/core';
import type { InventoryView } from '../inventory/live-inventory.js';
import { DeviceRouter } from '../routing/device-router.js';
import type { AgentRegistry, TunnelListener } from '../tunnel/agent-registry.js';
import type { AgentTunnel } from '../tunnel/agent-tunnel.js';
import type { AttachmentFor, ConsoleBroker, ConsoleRequest, DeviceChoice, OfflineWait, PartyTerminal } from './console-broker.js';
import { personLogFields, type Person } from './person.js';
import { OfflineWaiters, offlineWaitLine } from './offline-wait.js';
import type { RecorderFactory } from '../recording/session-recorder.js';
import { DeviceHub, type DeviceConsoleLog } from './device-hub.js';
import type { SessionSnapshot } from './session-snapshot.js';
import type { PeopleElsewhere } from './who-lines.js';
import type { SeatLeases } from './seat-lease.js';
import type { ConsoleStatus, UpstreamConsole } from './upstream-console.js';

/**
 * How long a login waits for a console stream being opened right now (the agent answers within
 * a round trip; past this the person is told the device is offline). Not an operator's choice.
 */
const ATTACH_WAIT_MS = 5_000;

export interface ConsoleSessionsDeps {
  logger: Logger;
  clock?: Clock;
  /** Opens the console stream through a tunnel (telnet-upstream.ts in production). */
  openUpstream(tunnel: AgentTunnel): Promise<UpstreamConsole>;
  recorders?: RecorderFactory;
  recordInput?: boolean;
  /** `viewerBufferBytes` of relay.yaml. */
  viewerBufferBytes: number;
  /** The continuous console log of a device, if kept. */
  consoleLogFor?(deviceId: string): DeviceConsoleLog | undefined;
  /** Power control through a device's tunnel (tunnel/power-request.ts). */
  requestPower?(tunnel: AgentTunnel, action: PowerAction): Promise<string>;
  /** In a relay group: the people on a device through the other members (for `who`). */
  peopleElsewhere?: (deviceId: string) => Promise<PeopleElsewhere[]>;
  /** In a relay group: each device's seat lease (one writer for the group); a relay alone gives read-write itself. */
  seatLeases?: SeatLeases;
}

/**
 * The relay's ConsoleBroker: routes a login to its device's hub, and keeps each hub's upstream
 * stream connected for as long as the device's agent holds a tunnel. Hubs are made when first
 * needed (a login, a tunnel), so a device added by a reload needs nothing more.
 */
export class ConsoleSessions implements ConsoleBroker, TunnelListener {
  private readonly router: DeviceRouter;
  private readonly hubs = new Map<string, DeviceHub>();
  private readonly connecting = new Map<string, Promise<void>>();
  /** People at a terminal waiting for an offline device (session/offline-wait.ts). */
  private readonly waiters = new OfflineWaiters();
  /** What each device's agent last said about its console (LIFELINE-STATUS), kept while offline. */
  private readonly consoleStates = new Map<string, ConsoleStatus>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private closed = false;
  private readonly banner: boolean;

  constructor(
    options: { inventory: InventoryView; banner?: boolean },
    private readonly registry: AgentRegistry,
    private readonly deps: ConsoleSessionsDeps,
  ) {
    this.router = new DeviceRouter(options.inventory);
    this.banner = options.banner ?? true;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger.child({ component: 'console-sessions' });
    registry.subscribe(this);
  }

  /** The device's hub, made on first use; undefined for a device the inventory does not have. */
  private hubFor(deviceId: string): DeviceHub | undefined {
    const existing = this.hubs.get(deviceId);
    if (existing) return existing;
    const device = this.router.device(deviceId);
    if (!device || this.closed) return undefined;
    const hub = new DeviceHub(device, {
      logger: this.deps.logger,
      clock: this.clock,
      recorders: this.deps.recorders,
      recordInput: this.deps.recordInput,
      viewerBufferBytes: this.deps.viewerBufferBytes,
      consoleLog: this.deps.consoleLogFor?.(device.id),
      power: this.deps.requestPower ? (action) => this.powerThroughTunnel(device.id, action) : undefined,
      roleOf: (person) => this.router.role(person.user),
      ...(this.deps.peopleElsewhere ? { peopleElsewhere: () => this.deps.peopleElsewhere!(device.id) } : {}),
      ...(this.deps.seatLeases ? { seatLease: this.deps.seatLeases(device.id) } : {}),
    });
    this.hubs.set(deviceId, hub);
    return hub;
  }

  devicesFor(user: string): DeviceChoice[] {
    return this.router.reachable(user).map((d) => ({
      id: d.id,
      description: d.description,
      online: this.hubs.get(d.id)?.online ?? this.registry.current(d.id) !== undefined,
    }));
  }

  /** A person left the inventory: their console sessions end, each with `line` shown to them. */
  endSessionsOf(user: string, line: string): number {
    let ended = 0;
    for (const hub of this.hubs.values()) ended += hub.endPartiesOf(user, line);
    return ended;
  }

  /** A device left the inventory: whoever is attached is told and let go, its stream closed, its hub dropped. */
  removeDevice(deviceId: string, line: string): void {
    const hub = this.hubs.get(deviceId);
    this.hubs.delete(deviceId);
    this.consoleStates.delete(deviceId);
    hub?.close(line);
    // Anyone waiting for it goes on, and is refused by the routing check after the wait.
    this.waiters.wake(deviceId);
  }

  /** A reload changed a device's settings (BREAK lengths, description): its hub uses them from now on. */
  reconfigure(device: RelayDeviceConfig): void {
    this.hubs.get(device.id)?.reconfigure(device);
  }

  async attach<P extends Person>(request: ConsoleRequest<P>, terminal: PartyTerminal, wait?: OfflineWait): Promise<AttachmentFor<P>> {
    const { person } = request;
    const device = this.router.resolve(person.user, request.deviceId);
    const hub = this.hubFor(device.id);
    if (!hub)
      throw new LifelineError(
        'ROUTE_DEVICE_UNAVAILABLE',
        `lifeline: device ${request.deviceId ?? '(default)'} is not available to ${person.user}.`,
      );
    const pending = this.connecting.get(device.id);
    if (!hub.online && pending) await this.withTimeout(pending, ATTACH_WAIT_MS);
    if (!hub.online && wait && !this.closed) {
      const offlineSince = this.registry.status(device.id).since;
      terminal.notice(
        offlineWaitLine(device.id, offlineSince === undefined ? undefined : Date.parse(offlineSince), this.clock.now(), wait.giveUpKeys),
      );
      this.logger.info(
        { event: 'session.offline-wait', deviceId: device.id, ...personLogFields(person) },
        'person waits for an offline device',
      );
      wait.waiting();
      while (!hub.online && this.hubs.get(device.id) === hub) await this.waiters.wait(device.id, wait.signal);
      // A reload during the wait may have removed the person, the device or the access.
      this.router.resolve(person.user, request.deviceId ?? device.id);
      if (this.hubs.get(device.id) !== hub)
        throw new LifelineError('ROUTE_DEVICE_UNAVAILABLE', `lifeline: device ${device.id} is not available to ${person.user}.`);
    }
    // A greeting only on a terminal: a session without a pty carries nothing but console bytes.
    if (this.banner && request.term && hub.online)
      terminal.notice(`connected to ${device.id}${device.description ? ` (${device.description})` : ''}.`);
    return hub.attach(person, terminal, request.term);
  }

  hub(deviceId: string): DeviceHub | undefined {
    return this.hubs.get(deviceId);
  }

  /**
   * Power control from the local admin CLI (root or the relay's user on the relay host): no role
   * check. Audited and marked as `caller` (e.g. `os:root (sudo by alice)`, cli/os-caller.ts), or
   * `admin-socket` when the client named nobody.
   */
  async adminPower(deviceId: string, action: PowerAction, caller?: string): Promise<string> {
    const hub = this.hubFor(deviceId);
    if (!hub) throw new LifelineError('ROUTE_DEVICE_UNAVAILABLE', `no device ${deviceId} in relay.yaml`);
    const by = caller ? printable(caller, 100) : 'admin-socket';
    try {
      const answer = await this.powerThroughTunnel(deviceId, action);
      hub.recordPower(by, action, answer);
      return answer;
    } catch (err) {
      hub.recordPower(by, action, `failed: ${(err as Error).message}`);
      throw err;
    }
  }

  private powerThroughTunnel(deviceId: string, action: PowerAction): Promise<string> {
    const tunnel = this.registry.current(deviceId);
    if (!tunnel)
      return Promise.reject(new LifelineError('ROUTE_DEVICE_OFFLINE', `device ${deviceId} is offline (its edge agent is not connected).`));
    return this.deps.requestPower!(tunnel, action);
  }

  /** What the device's agent last said about its console; undefined before it ever did. */
  consoleStatus(deviceId: string): ConsoleStatus | undefined {
    return this.consoleStates.get(deviceId);
  }

  /** Live console sessions, for the admin interface. */
  snapshots(): SessionSnapshot[] {
    return [...this.hubs.values()].flatMap((hub) => hub.snapshot() ?? []);
  }

  online(tunnel: AgentTunnel): void {
    void this.connect(tunnel, new Backoff({ baseMs: 500, capMs: 10_000 }));
  }

  offline(): void {
    // The hub learns it from its upstream closing; nothing else to do.
  }

  close(reason: string): void {
    this.closed = true;
    this.waiters.closeAll(reason);
    for (const hub of this.hubs.values()) hub.close(reason);
  }

  private connect(tunnel: AgentTunnel, backoff: Backoff): Promise<void> {
    const attempt = this.openFor(tunnel, backoff).finally(() => {
      if (this.connecting.get(tunnel.deviceId) === attempt) this.connecting.delete(tunnel.deviceId);
    });
    this.connecting.set(tunnel.deviceId, attempt);
    return attempt;
  }

  private async openFor(tunnel: AgentTunnel, backoff: Backoff): Promise<void> {
    const hub = this.hubFor(tunnel.deviceId);
    if (!hub) return;
    let upstream: UpstreamConsole;
    try {
      upstream = await this.deps.openUpstream(tunnel);
    } catch (err) {
      this.logger.warn({ event: 'upstream.failed', deviceId: tunnel.deviceId, err }, 'cannot open console stream through tunnel');
      this.retryLater(tunnel, backoff);
      return;
    }
    // The tunnel was replaced or dropped meanwhile, or its device left the inventory.
    if (this.closed || this.registry.current(tunnel.deviceId) !== tunnel || this.hubs.get(tunnel.deviceId) !== hub) {
      upstream.close();
      return;
    }
    hub.connectUpstream(upstream);
    upstream.onStatus((status) => this.consoleStates.set(tunnel.deviceId, status));
    this.waiters.wake(tunnel.deviceId);
    upstream.onClose(() => this.retryLater(tunnel, backoff));
  }

  /** The stream closed but the agent's tunnel may still be there: open a new stream through it. */
  private retryLater(tunnel: AgentTunnel, backoff: Backoff): void {
    if (this.closed || this.registry.current(tunnel.deviceId) !== tunnel) return;
    this.clock.setTimeout(() => {
      if (this.registry.current(tunnel.deviceId) === tunnel) void this.connect(tunnel, backoff);
    }, backoff.next());
  }

  private async withTimeout(promise: Promise<void>, ms: number): Promise<void> {
    let timer: { cancel(): void } | undefined;
    await Promise.race([promise, new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, ms)))]);
    timer?.cancel();
  }
}

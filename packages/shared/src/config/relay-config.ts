import { z } from 'zod';
import { logConfigSchema } from './log-config.js';
import { statusConfigSchema } from './agent-config.js';
import { inventoryStoreSchema } from './inventory-store-config.js';
import { relayGroupSchema } from './relay-group-config.js';
import { keepaliveSchema } from './keepalive-config.js';
import { escapeChar, relayDeviceSchema, relayUserSchema } from './relay-inventory-entries.js';

export const relayConfigSchema = z
  .object({
    listen: z
      .object({
        host: z.string().min(1).default('0.0.0.0').describe('Address the SSH server binds.'),
        port: z.number().int().min(0).max(65_535).default(443).describe('TCP port (443 passes most outbound firewalls).'),
      })
      .strict()
      .prefault({})
      .describe('Where engineers and agents connect.'),
    stateDir: z
      .string()
      .min(1)
      .default('/var/lib/lifeline')
      .describe(
        "The relay's own folder (mode 0700): relative hostKeyFile, recordingsDir, consoleLog.dir and adminSocket are inside it. Relative to relay.yaml's folder when relative.",
      ),
    hostKeyFile: z
      .string()
      .min(1)
      .default('relay_host_ed25519')
      .describe(
        'Ed25519 host key (OpenSSH format); generated with mode 0600 on the first start, after the port is bound. Relative: inside stateDir.',
      ),
    escapeChar: escapeChar
      .default('^]')
      .describe(
        'In-band escape key for clients that cannot send an SSH break (pty sessions only; a user\'s own escapeChar overrides it); "none" turns it off.',
      ),
    banner: z.boolean().default(true).describe('Greet people with one line naming the device on connect.'),
    limits: z
      .object({
        loginGraceMs: z
          .number()
          .int()
          .min(1_000)
          .max(600_000)
          .default(120_000)
          .describe('Time from connect until login must have succeeded; then the connection is closed (like sshd LoginGraceTime).'),
        maxUnauthenticatedPerAddress: z
          .number()
          .int()
          .min(1)
          .default(30)
          .describe(
            'Connections not logged in yet that one source address may hold; more are closed at connect. Room for an office NAT logging in at once.',
          ),
        maxUnauthenticated: z
          .number()
          .int()
          .min(1)
          .default(300)
          .describe(
            'Connections not logged in yet in all (like sshd MaxStartups); more are closed at connect. Room for every agent reconnecting after a relay restart (refused ones retry).',
          ),
        handshakesInFlight: z
          .number()
          .int()
          .min(1)
          .default(64)
          .describe(
            'Connections still in SSH key exchange; more are closed at connect, before any key-exchange work (load shedding), so agents back off and retry instead of timing out mid-handshake. Separate from maxUnauthenticated, which also counts people typing a password.',
          ),
        sessionsPerConnection: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(4)
          .describe(
            'Console sessions one logged-in connection may have open at once; further session channels are refused at open, with the reason. Room for OpenSSH ControlMaster, which runs every ssh to the same login through one connection.',
          ),
        resizesPerSecond: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(10)
          .describe(
            "Window-size changes applied per second per session; in between, the latest size wins and lands when the second is up, so a flood of resizes costs the console's recording one event each time.",
          ),
        adminQueueBytes: z
          .number()
          .int()
          .min(65_536)
          .default(1_048_576)
          .describe(
            'Answers held for an admin-socket client that sends requests without reading the answers; past this it is disconnected.',
          ),
      })
      .strict()
      .prefault({})
      .describe(
        'Limits against floods: connections that have not logged in yet (checked before any key exchange; refusals are logged as ssh.preauth-limit), and what one logged-in person or admin client may make the relay hold.',
      ),
    auth: z
      .object({
        failureDelayMs: z.number().int().min(0).max(10_000).default(1_000).describe('Pause before answering a failed login.'),
        maxFailuresPerWindow: z
          .number()
          .int()
          .min(1)
          .default(10)
          .describe(
            'Failed logins (password or key) of people allowed from one address per window before it is refused. Password checks in progress hold a place, so a burst of guesses gets no more hashes than this.',
          ),
        windowMs: z.number().int().min(1_000).default(300_000).describe('Length of that window.'),
        agents: z
          .object({
            maxFailuresPerWindow: z
              .number()
              .int()
              .min(1)
              .default(20)
              .describe('Failed agent key logins allowed per address and key (an unknown key counts for its address) per window.'),
            windowMs: z.number().int().min(1_000).default(300_000).describe('Length of that window.'),
          })
          .strict()
          .prefault({})
          .describe(
            "Edge agents' key logins, throttled on their own: people's failed logins from a shared (NAT) address never lock an agent out.",
          ),
        passwordChecksPerAddress: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(1)
          .describe('Password hashes (scrypt) one source address may have running at once; more wait their turn.'),
        passwordChecksInFlight: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(2)
          .describe('Password hashes running at once in all; keep it at or below the CPU cores.'),
      })
      .strict()
      .prefault({})
      .describe('Login throttling per source address.'),
    recordingsDir: z
      .string()
      .min(1)
      .default('recordings')
      .describe('Where session recordings (asciicast v2) go, by device and date. Relative: inside stateDir.'),
    recording: z
      .object({
        input: z.boolean().default(false).describe('Also record what people type (off: console passwords are typed there).'),
        retentionDays: z.number().int().min(0).default(90).describe('Recordings older than this are deleted; 0 keeps them forever.'),
        queueBytes: z
          .number()
          .int()
          .min(65_536)
          .max(268_435_456)
          .default(4_194_304)
          .describe(
            'Output one recording may hold while its disk is slow (a loaded machine, a frozen or dying disk); past this, events are dropped and the file says where (a gap marker), and the person is told. A console at 115200 baud fills 4 MiB in six minutes.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Session recording.'),
    consoleLog: z
      .object({
        dir: z
          .string()
          .min(1)
          .default('console-logs')
          .describe('Per-device log of everything the console printed, attended or not. Relative: inside stateDir.'),
        maxBytes: z.number().int().min(4_096).default(1_048_576).describe('Size at which a device log is rotated.'),
        files: z.number().int().min(1).max(100).default(5).describe('Rotated files kept per device, the current one included.'),
        scrollbackBytes: z
          .number()
          .int()
          .min(0)
          .max(1_048_576)
          .default(4_096)
          .describe('How much recent console output a person sees on joining.'),
        queueBytes: z
          .number()
          .int()
          .min(65_536)
          .max(268_435_456)
          .default(1_048_576)
          .describe(
            "Output one device's log may hold while its disk is slow (a loaded machine, a frozen or dying disk); past this, output is dropped and the log says where and how much. A console at 115200 baud fills 1 MiB in 90 seconds.",
          ),
      })
      .strict()
      .prefault({})
      .describe('Continuous per-device console log and join scrollback.'),
    viewerBufferBytes: z
      .number()
      .int()
      .min(4_096)
      .default(262_144)
      .describe('Output held for a viewer that cannot keep up; past this it is disconnected, so it never slows anyone else.'),
    keepalive: keepaliveSchema(
      'agents and people',
      'Drops a silently dead connection (e.g. an agent whose 4G link stalled) within about intervalMs x (countMax + 1).',
    ),
    agentReturnRate: z
      .number()
      .int()
      .min(1)
      .default(200)
      .describe(
        'On a graceful stop (SIGTERM) the relay tells each agent when to come back, spread so that about this many agents log in per second once it is back: an upgrade causes no reconnect storm (10,000 agents: within 50 s).',
      ),
    agentReturnAfterMs: z
      .number()
      .int()
      .min(0)
      .max(300_000)
      .default(10_000)
      .describe(
        'On a graceful stop, the earliest an agent is told to come back: about how long a restart (or an upgrade) takes until the relay listens again. The spread over agentReturnRate starts after it, so agents do not arrive at a closed port and fall back into their backoff.',
      ),
    healthCheckTimeoutMs: z
      .number()
      .int()
      .min(500)
      .default(10_000)
      .describe('How long the relay waits for a health-check probe to come back through a tunnel.'),
    adminSocket: z
      .string()
      .min(1)
      .default('/run/lifeline/relay.sock')
      .describe('Unix socket (mode 0600) for `lifeline-relay sessions` and other local admin commands. Relative: inside stateDir.'),
    enrolment: z
      .object({
        approve: z
          .enum(['auto', 'manual'])
          .default('auto')
          .describe(
            'auto: a Pi presenting a valid enrolment token serves its device at once; manual: it shows as pending in `lifeline-relay devices` until `lifeline-relay approve DEVICE`.',
          ),
        tokenTtl: z
          .string()
          .regex(/^[1-9][0-9]{0,5}[mhd]$/, 'a duration like 30m, 24h or 7d')
          .default('24h')
          .describe('How long a token from `lifeline-relay enrol` stays usable when --ttl is not given (30m, 24h, 7d).'),
        relayAddress: z
          .string()
          .regex(/^[^\s:]+:[0-9]{1,5}$/, 'host:port, e.g. relay.example.net:443')
          .optional()
          .describe(
            'host:port the Pis dial, written into enrolment files (the relay cannot know its public name); `enrol --relay` overrides it.',
          ),
        status: statusConfigSchema
          .optional()
          .describe(
            "The fleet's status LED (and hook), as agent.yaml's `status`, written into every enrolment file: a new Pi shows its enrolment on it from the first boot (docs/status-led.md). Without it the file names none and the Pi's LED stays dark.",
          ),
      })
      .strict()
      .prefault({})
      .describe('Zero-touch enrolment of new edge agents (`lifeline-relay enrol`, docs/operations.md).'),
    store: inventoryStoreSchema
      .prefault({ type: 'sqlite' })
      .describe(
        'Where the relay keeps what it learns at run time (people added with `lifeline-relay user add`, devices, enrolled agents, enrolment tokens), by `type`; relay.yaml itself is never rewritten, and its entries win.',
      ),
    group: relayGroupSchema
      .optional()
      .describe(
        'Makes this relay a member of a relay group: relays sharing one PostgreSQL `store` and one host key (docs/operations.md). Agents learn every member from the one they reach and keep a tunnel to each. Without it the relay stands alone.',
      ),
    log: logConfigSchema,
    users: z.array(relayUserSchema).default([]).describe('People who may log in.'),
    devices: z.array(relayDeviceSchema).default([]).describe('Devices served through edge agents.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.group && config.store.type !== 'postgres')
      ctx.addIssue({ code: 'custom', path: ['group'], message: 'a relay group shares its state in PostgreSQL: needs store.type postgres' });
    const deviceIds = new Set<string>();
    config.devices.forEach((d, i) => {
      if (deviceIds.has(d.id)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id "${d.id}"` });
      deviceIds.add(d.id);
      if (d.breakMs > d.maxBreakMs)
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'breakMs'], message: 'must not exceed maxBreakMs' });
    });
    const userNames = new Set<string>();
    config.users.forEach((u, i) => {
      if (userNames.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${u.name}"` });
      userNames.add(u.name);
      if (!u.password && u.authorizedKeys.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['users', i], message: 'needs a password or at least one authorizedKeys entry' });
      }
      // A device id naming no device is only a warning (inventory/inventory.ts): it may be enrolled later.
    });
  });

export { inventoryStoreSchema, type InventoryStoreConfig } from './inventory-store-config.js';
export { relayGroupSchema, type RelayGroupConfig } from './relay-group-config.js';
export {
  DEVICE_PATTERN,
  relayDeviceSchema,
  relayUserSchema,
  type RelayDeviceConfig,
  type RelayUserConfig,
} from './relay-inventory-entries.js';

export type RelayConfig = z.output<typeof relayConfigSchema>;

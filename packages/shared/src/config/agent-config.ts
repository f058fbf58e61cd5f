import { z } from 'zod';
import { logConfigSchema } from './log-config.js';
import { keepaliveSchema } from './keepalive-config.js';
import { IpmiPrivileges } from './agent-consoles.js';

export { IpmiPrivileges, agentConsoles } from './agent-consoles.js';

const serialConsole = z
  .object({
    type: z.literal('serial').describe('A serial port on the agent, e.g. a USB console cable.'),
    path: z.string().min(1).describe('Serial device; prefer a stable /dev/serial/by-id/... path.'),
    baudRate: z.number().int().positive().default(9600).describe('Line speed; Cisco and most network gear default to 9600.'),
    dataBits: z
      .union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)])
      .default(8)
      .describe('Data bits per character.'),
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none').describe('Parity bit.'),
    stopBits: z
      .union([z.literal(1), z.literal(1.5), z.literal(2)])
      .default(1)
      .describe('Stop bits.'),
    flowControl: z
      .enum(['none', 'rtscts', 'xonxoff'])
      .default('none')
      .describe('Hardware (RTS/CTS) or software (XON/XOFF) flow control; consoles rarely use any.'),
  })
  .strict();

const telnetConsole = z
  .object({
    type: z.literal('telnet').describe('A terminal server or ser2net port reached over the site LAN.'),
    host: z.string().min(1).describe('Terminal server or ser2net on the site LAN.'),
    port: z.number().int().min(1).max(65_535).describe('TCP port of that console on the terminal server.'),
    rfc2217: z
      .boolean()
      .default(true)
      .describe('Offer RFC 2217 (Com Port Control) for BREAK and line settings; plain IAC BREAK otherwise.'),
    baudRate: z.number().int().positive().optional().describe('Sent with RFC 2217 when set.'),
  })
  .strict();

const simConsole = z
  .object({
    type: z.literal('sim').describe('The simulated router of the demo.'),
    hostname: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .default('demo-router')
      .describe('Prompt name of the simulated router.'),
  })
  .strict();

const ipmiSolConsole = z
  .object({
    type: z
      .literal('ipmi-sol')
      .describe("A server's Serial-over-LAN console through its BMC (IPMI 2.0 lanplus, via ipmitool); also gives power control."),
    host: z.string().min(1).describe('BMC address or name on the site LAN.'),
    port: z.number().int().min(1).max(65_535).default(623).describe('BMC UDP port (RMCP+).'),
    user: z.string().min(1).max(16).describe('BMC user name (IPMI allows up to 16 characters).'),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File whose first line is the BMC password (mode 0600: refused if group or others may read it). Without it the agent reads the env LIFELINE_IPMI_PASSWORD.',
      ),
    cipherSuite: z
      .number()
      .int()
      .min(0)
      .max(17)
      .default(3)
      .describe('RMCP+ cipher suite; 3 (HMAC-SHA1, AES-128) works on most BMCs, 17 (SHA-256) on newer ones.'),
    privilege: z
      .enum(IpmiPrivileges)
      .default('ADMINISTRATOR')
      .describe('Privilege level asked for at login; the BMC user must have it. SOL needs USER or more, power control OPERATOR or more.'),
  })
  .strict();

export const consoleSchema = z.discriminatedUnion('type', [serialConsole, telnetConsole, simConsole, ipmiSolConsole]);

const deviceId = z.string().min(1).describe('Device id on the relay.');

/** One entry of `consoles`: a console plus the device id it is served as. */
export const consoleEntrySchema = z.discriminatedUnion('type', [
  serialConsole.extend({ device: deviceId }),
  telnetConsole.extend({ device: deviceId }),
  simConsole.extend({ device: deviceId }),
  ipmiSolConsole.extend({ device: deviceId }),
]);

const gpioLed = z
  .object({
    type: z.literal('gpio').describe('An LED (with its resistor) on a GPIO pin of the Pi.'),
    pin: z
      .number()
      .int()
      .min(0)
      .max(53)
      .describe(
        'GPIO number in BCM numbering, not the header pin: GPIO17 is header pin 11. Works on kernels that number sysfs GPIOs from 0 and from 512.',
      ),
    activeLow: z.boolean().default(false).describe('True when the LED lights with the pin low (wired from 3.3 V to the pin).'),
  })
  .strict();

const sysfsLed = z
  .object({
    type: z.literal('sysfs-led').describe("A Linux LED class device, e.g. the Pi's green ACT LED; its trigger is restored on stop."),
    name: z
      .string()
      .regex(/^[A-Za-z0-9_:+-][A-Za-z0-9_:+.-]*$/, 'must be a name under /sys/class/leds, e.g. ACT or led0')
      .describe('Name under /sys/class/leds: ACT on current Raspberry Pi OS, led0 on older releases.'),
  })
  .strict();

const noLed = z.object({ type: z.literal('none').describe('No LED; state changes are still logged and passed to the hook.') }).strict();

export const statusLedSchema = z.discriminatedUnion('type', [gpioLed, sysfsLed, noLed]);

export const statusConfigSchema = z
  .object({
    led: statusLedSchema
      .default({ type: 'none' })
      .describe("The LED that shows the agent's state at the site (docs/status-led.md), by `type`."),
    hook: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Shell command (/bin/sh -c) run on every state change with LIFELINE_STATE, LIFELINE_REASON and LIFELINE_DEVICE set and, of the agent environment, only PATH and LANG; one at a time, killed after 10 s.',
      ),
  })
  .strict();

export const agentConfigSchema = z
  .object({
    relay: z
      .object({
        host: z.string().min(1).describe('Relay host name or address; resolved afresh on every connection attempt.'),
        port: z.number().int().min(1).max(65_535).default(443).describe('Relay SSH port (443 passes most outbound firewalls).'),
        hostKey: z
          .string()
          .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an SSH SHA256 fingerprint, e.g. "SHA256:..." as the relay logs it')
          .describe("The relay's host key fingerprint; any other key is refused."),
        alternates: z
          .array(
            z
              .object({
                host: z.string().min(1).describe('Another relay address of the same group (same host key).'),
                port: z.number().int().min(1).max(65_535).default(443),
              })
              .strict(),
          )
          .default([])
          .describe('Tried in order when the primary relay cannot be reached; the primary again after a lost connection.'),
      })
      .strict()
      .describe('The relay this agent dials out to.'),
    device: deviceId.optional().describe('Device id on the relay (one console: with `console`).'),
    stateDir: z
      .string()
      .min(1)
      .default('/var/lib/lifeline')
      .describe("The agent's own folder (mode 0700): a relative keyFile is inside it. Relative to agent.yaml's folder when relative."),
    keyFile: z
      .string()
      .min(1)
      .default('agent_ed25519')
      .describe(
        "The agent's Ed25519 key (OpenSSH format); generated with mode 0600 on the first start if missing. Relative: inside stateDir.",
      ),
    console: consoleSchema.optional().describe('The device console this agent serves, by `type` (with `device`).'),
    consoles: z
      .array(consoleEntrySchema)
      .min(1)
      .optional()
      .describe(
        "Several consoles, each served as its own device (instead of `device` + `console`); every device must list this agent's key on the relay.",
      ),
    reconnect: z
      .object({
        baseMs: z.number().int().min(10).default(1_000).describe('First retry delay ceiling; doubles per failure.'),
        capMs: z.number().int().min(100).default(30_000).describe('Largest retry delay ceiling.'),
        connectTimeoutMs: z
          .number()
          .int()
          .min(1_000)
          .default(15_000)
          .describe(
            'Give up on a connection attempt (TCP and SSH handshake) after this long. A busy relay closes what it cannot finish at once (limits.handshakesInFlight), so this only has to cover a slow link and the handshakes admitted ahead of this one.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Backoff between attempts to reach the relay (full jitter).'),
    consoleRetryMs: z.number().int().min(100).default(2_000).describe('Pause between attempts to open a missing console.'),
    groupFile: z
      .string()
      .min(1)
      .default('relay-group.json')
      .describe(
        'The last member list of the relay group the agent heard (mode 0600), so it reaches the group after a reboot even when relay.host is down. Relative: inside stateDir.',
      ),
    writerTokensFile: z
      .string()
      .min(1)
      .default('writer-tokens.json')
      .describe(
        'The largest writer token a relay of the group sent for each console, and which relay (mode 0600), so that after a restart the agent still refuses a relay whose lease was taken over (docs/architecture.md, Writer lease). Relative: inside stateDir.',
      ),
    // In IGNORED_AGENT_KEYS (ignored-keys.ts).
    inputHoldMs: z
      .number()
      .int()
      .optional()
      .describe(
        "Ignored (kept so older agent.yaml files load). Earlier releases took input from one relay of a group at a time for this long after its last keystroke; the relay group's writer lease decides now (docs/architecture.md).",
      ),
    keepalive: keepaliveSchema(
      'the relay',
      'Notices a silently dead path (no FIN/RST, e.g. a stalled 4G link) within about intervalMs x (countMax + 1).',
    ),
    health: z
      .object({
        intervalMs: z.number().int().min(1_000).default(60_000).describe('Time between loopback health checks while the tunnel is up.'),
        timeoutMs: z.number().int().min(500).default(10_000).describe('How long one check may take.'),
        failuresBeforeReconnect: z
          .number()
          .int()
          .min(1)
          .default(2)
          .describe('Failed checks in a row that tear the tunnel down and reconnect.'),
      })
      .strict()
      .prefault({})
      .describe('Loopback health check: the agent asks the relay for its own device and must get its own nonce back through the tunnel.'),
    status: statusConfigSchema.prefault({}).describe('How the agent shows its state on site: a status LED and an optional hook command.'),
    log: logConfigSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const single = config.device !== undefined || config.console !== undefined;
    if (single && config.consoles) {
      ctx.addIssue({ code: 'custom', path: ['consoles'], message: 'give either device + console, or consoles, not both' });
    } else if (!config.consoles) {
      if (config.device === undefined) ctx.addIssue({ code: 'custom', path: ['device'], message: 'required (or give consoles)' });
      if (config.console === undefined) ctx.addIssue({ code: 'custom', path: ['console'], message: 'required (or give consoles)' });
    }
    const seen = new Set<string>();
    config.consoles?.forEach((c, i) => {
      if (seen.has(c.device)) ctx.addIssue({ code: 'custom', path: ['consoles', i, 'device'], message: `duplicate device "${c.device}"` });
      seen.add(c.device);
    });
  });

export type AgentConfig = z.output<typeof agentConfigSchema>;

export type ConsoleConfig = z.output<typeof consoleSchema>;
export type SerialConsoleConfig = z.output<typeof serialConsole>;
export type TelnetConsoleConfig = z.output<typeof telnetConsole>;
export type SimConsoleConfig = z.output<typeof simConsole>;
export type IpmiSolConsoleConfig = z.output<typeof ipmiSolConsole>;
export type IpmiPrivilege = (typeof IpmiPrivileges)[number];
export type StatusConfig = z.output<typeof statusConfigSchema>;
export type StatusLedConfig = z.output<typeof statusLedSchema>;

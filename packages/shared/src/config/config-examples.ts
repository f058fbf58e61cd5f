/**
 * Complete, commented example config files for docs/config.md. They use real values of the right
 * shape (public keys made with ssh-keygen and `loadOrCreateKey`, a hash made by `hashPassword` of a
 * discarded random password, the fingerprint of the example relay host key), and a test parses
 * them with the schemas, so the documentation cannot drift from what the loader accepts.
 */

/** relay.yaml with every key written out; values other than the required ones are the defaults. */
export const RELAY_EXAMPLE_YAML = `# /etc/lifeline/relay.yaml (root:lifeline 0640: the relay only reads it)
# What the relay writes lives in stateDir: relative hostKeyFile, recordingsDir, consoleLog.dir
# and adminSocket are inside it. Check this file with: lifeline-relay check --config FILE

# Where engineers (PuTTY, OpenSSH) and edge agents connect. Both use the same port.
listen: { host: 0.0.0.0, port: 443 }

# The relay's own folder (lifeline:lifeline 0700); relative to this file's folder if relative.
stateDir: /var/lib/lifeline

# The relay's Ed25519 host key, created (mode 0600) on the first start, in stateDir.
# Agents pin its fingerprint: lifeline-relay fingerprint --config /etc/lifeline/relay.yaml
hostKeyFile: relay_host_ed25519

# In-band escape key for sessions with a terminal: Ctrl-] then b sends BREAK, . disconnects,
# ? lists the commands. A user's own escapeChar overrides it ("none": fully transparent).
escapeChar: "^]"
# One greeting line naming the device when a person connects.
banner: true

# Failed logins from one address are answered slowly, and refused after too many.
auth:
  failureDelayMs: 1000
  maxFailuresPerWindow: 10
  windowMs: 300000
  agents:                     # agents' key logins count apart from people's (shared NAT addresses)
    maxFailuresPerWindow: 20
    windowMs: 300000
  passwordChecksPerAddress: 1 # scrypt hashes running at once for one address...
  passwordChecksInFlight: 2   # ...and in all (at most the CPU cores)

# Connections that have not logged in yet: closed after the grace time, capped at connect.
# Then what one logged-in person or admin client may make the relay hold.
limits:
  loginGraceMs: 120000
  maxUnauthenticatedPerAddress: 30
  maxUnauthenticated: 300
  handshakesInFlight: 64
  sessionsPerConnection: 4     # console sessions at once on one connection (ControlMaster)
  resizesPerSecond: 10         # window changes applied per session per second; the last size always lands
  adminQueueBytes: 1048576     # unread admin answers before that client is cut off

log:
  level: info      # fatal, error, warn, info, debug or trace
  pretty: false    # JSON lines (for journald and log shippers); --pretty overrides

# Every session is recorded (asciicast v2: asciinema play works on the files).
recordingsDir: recordings
recording:
  input: false        # keystrokes are not recorded: console passwords are typed there
  retentionDays: 90   # 0 keeps recordings forever
  queueBytes: 4194304 # held for a slow disk before events are dropped (marked as a gap)

# What each device printed, whether or not anyone was attached (a crash at 3am).
consoleLog:
  dir: console-logs
  maxBytes: 1048576     # rotate at 1 MiB
  files: 5              # per device, the current one included
  scrollbackBytes: 4096 # shown to a person on joining, set apart from live output
  queueBytes: 1048576   # held for a slow disk before output is dropped (noted in the log)

# A viewer that cannot keep up is disconnected past this much pending output.
viewerBufferBytes: 262144

# Local admin interface for lifeline-relay sessions (Unix socket, mode 0600), in the runtime
# folder systemd makes (RuntimeDirectory=lifeline); lifeline-relay sessions looks there by default.
adminSocket: /run/lifeline/relay.sock

# What the relay learns at run time (people added with lifeline-relay user add, enrolled agents,
# enrolment tokens): SQLite in stateDir by default. relay.yaml is never rewritten; its entries win.
store: { type: sqlite, file: inventory.db }
# Shared by a relay group (password: a 0600 file, or the env LIFELINE_PG_PASSWORD):
# or: store: { type: postgres, host: db.example.com, port: 5432, database: lifeline, user: lifeline, passwordFile: pg-password, ssl: true, connectTimeoutMs: 5000 }
# A relay group (docs/operations.md): relays sharing one PostgreSQL store and one host key.
# advertise: the address agents dial for THIS relay (port: listen.port when left out). A member
# renews every heartbeatMs and has left when it has not for expiryMs (a killed relay).
# or: group: { advertise: { host: relay1.example.net, port: 443 }, heartbeatMs: 2000, expiryMs: 7000, presenceFlushMs: 500 }

# SSH keepalives: a dead agent connection (no FIN or RST) is dropped within about 18 s.
keepalive: { intervalMs: 6000, countMax: 2 }
# How long a health-check probe may take through a tunnel before it counts as failed.
healthCheckTimeoutMs: 10000

# Zero-touch enrolment: \`lifeline-relay enrol DEVICE\` writes a file for the Pi's boot partition.
# manual: new Pis wait as pending until \`lifeline-relay approve DEVICE\`.
enrolment:
  approve: auto
  tokenTtl: 24h
  relayAddress: relay.example.net:443
  # The Pis' status LED (agent.yaml's \`status\`), written into every enrolment file, so a new Pi
  # shows its enrolment from the first boot: here the Pi's own green ACT LED.
  status: { led: { type: sysfs-led, name: ACT } }
# On a graceful stop, agents are told to come back spread at this many per second (no storm),
# starting once a restart should be done.
agentReturnRate: 200
agentReturnAfterMs: 10000

users:
  # Log in as "alice" to reach rtr-tokyo-01 (her first device), or "alice:sw-osaka-02".
  - name: alice
    # Made with: lifeline-relay hash-password  (never the plain password)
    password: "$scrypt$N=32768,r=8,p=3$BWEdm2mp3U0J0uUDkbzlMA$MincsrFBnRO5SD0N9TgN/6GWR5lkdw+BC3TCp3oCzQ0"
    authorizedKeys:
      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKYlk0NLOdLBgGaCv/8mE/EiDACaBdpxyoxj6miVcAwu alice@laptop"
    devices: [rtr-tokyo-01, sw-osaka-02]
    role: engineer   # engineer (default), supervisor (may watch and take over) or admin
  # Keys only: without a password entry, password logins are refused for bob.
  - name: bob
    authorizedKeys:
      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOEgnqaexdq0GaJiVRUETsiJ6nOlQtFysAMYztbB5NRH bob@noc"
    devices: [sw-osaka-02]
    defaultDevice: sw-osaka-02   # what a plain "bob" login reaches (without it: his first device)
    # bob uploads firmware with XMODEM from PuTTY (which always asks for a terminal): no escape
    # key, so every byte reaches the device unchanged. Without this key, the relay's escapeChar.
    escapeChar: none
  # A whole fleet by glob and by labels; "carol" alone gets a menu of them, "carol:DEVICE" one.
  - name: carol
    authorizedKeys:
      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOEgnqaexdq0GaJiVRUETsiJ6nOlQtFysAMYztbB5NRH bob@noc"
    devices: ["rtr-tokyo-*"]
    deviceLabels: [{ site: osaka, kind: switch }]
    role: supervisor

devices:
  - id: rtr-tokyo-01
    # Printed by: lifeline-agent pubkey --config /etc/lifeline/agent.yaml  (on the agent)
    agentKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAbdnyXFkbx4f/XSMN5qk6e1GK/4e0/sEXKllBNDZEHj lifeline-agent@rtr-tokyo-01"
    description: Tokyo core router, rack 3
    labels: { site: tokyo, kind: router }
  - id: sw-osaka-02
    labels: { site: osaka, kind: switch }
    agentKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0Phs9kAVAcxz7gsCJN+I+rve5cuQzNmPrEA4kNN+ld lifeline-agent@sw-osaka-02"
    breakMs: 500       # BREAK length when the client does not say (PuTTY)
    maxBreakMs: 3000   # longer requests are cut to this
`;

/** agent.yaml with every key written out; the `# or: console:` and `# or: led:` lines are the other console kinds and LEDs. */
export const AGENT_EXAMPLE_YAML = `# /etc/lifeline/agent.yaml (root:lifeline 0640: the agent only reads it)
# A relative keyFile is inside stateDir; other relative paths (console path, passwordFile) are
# relative to this file's folder. Check this file with: lifeline-agent check --config FILE

# The relay to dial out to, and its host key fingerprint: any other key is refused.
# Get it on the relay with: lifeline-relay fingerprint --config /etc/lifeline/relay.yaml
# alternates: relays of the same group (same host key), tried in order when the primary fails.
relay:
  host: relay.example.com
  port: 443
  hostKey: "SHA256:+hkcgVN6cDqFmYZcEuASaEReUKshz2T+r9ueEQz0I5M"
  alternates: [{ host: relay2.example.com, port: 443 }]

# The device id this agent serves; the relay's devices[].id with this agent's key.
device: rtr-tokyo-01

# The agent's own folder (lifeline:lifeline 0700); relative to this file's folder if relative.
stateDir: /var/lib/lifeline
# The agent's Ed25519 key in stateDir, created (mode 0600) on the first start or by
# "lifeline-agent pubkey --generate".
keyFile: agent_ed25519

# The device's console. Prefer /dev/serial/by-id/... paths: /dev/ttyUSB0 can change on reboot.
console: { type: serial, path: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0, baudRate: 9600, dataBits: 8, parity: none, stopBits: 1, flowControl: none }
# or: console: { type: telnet, host: 10.0.0.5, port: 7001, rfc2217: true, baudRate: 9600 }
# or: console: { type: sim, hostname: demo-router }
# A server's Serial-over-LAN console through its BMC (docs/ipmi.md); also gives power control:
# or: console: { type: ipmi-sol, host: 10.0.0.20, port: 623, user: lifeline, passwordFile: bmc-password, cipherSuite: 3, privilege: ADMINISTRATOR }

# One Pi can serve several consoles, each its own device on the relay (whose devices must all
# list this agent's key). Instead of device + console above:
# consoles:
#   - { device: rtr-tokyo-01, type: serial, path: /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0, baudRate: 9600 }
#   - { device: sw-tokyo-02, type: telnet, host: 10.0.0.5, port: 7002 }
#   - { device: srv-tokyo-03, type: ipmi-sol, host: 10.0.0.20, user: lifeline, passwordFile: bmc-password }

# Backoff between attempts to reach the relay (full jitter, doubling from baseMs up to capMs);
# an attempt that gets no answer is given up after connectTimeoutMs.
reconnect: { baseMs: 1000, capMs: 30000, connectTimeoutMs: 15000 }
# SSH keepalives: a silently dead link (a stalled 4G modem) is noticed within about 18 s;
# a link that stalls for up to 12 s (a slow 4G handover) is not.
keepalive: { intervalMs: 6000, countMax: 2 }
# Loopback health check: proves the tunnel end to end; 2 failures in a row reconnect.
health: { intervalMs: 60000, timeoutMs: 10000, failuresBeforeReconnect: 2 }
# Pause between attempts to open a console that is missing (USB adapter unplugged).
consoleRetryMs: 2000
# Relay group (docs/operations.md): the members the agent last heard of, so it can reach the
# group after a reboot when relay.host is down (in stateDir, mode 0600).
groupFile: relay-group.json
# The largest writer token each console took from a relay of the group, so a restart does not
# forget which relay lost its lease (in stateDir, mode 0600).
writerTokensFile: writer-tokens.json

# What the agent shows on site (docs/status-led.md): slow blink = trying to reach the relay,
# solid = tunnel up and healthy (flickers with console traffic), fast blink = needs a person, off = not running.
status:
  # An LED with a 330 ohm resistor from GPIO17 (BCM numbering: header pin 11) to ground.
  # activeLow: true when it is wired from 3.3 V to the pin instead.
  led: { type: gpio, pin: 17, activeLow: false }
  # Or the Pi's own green ACT LED (led0 on older releases), or no LED at all:
  # or: led: { type: sysfs-led, name: ACT }
  # or: led: { type: none }
  # Run (/bin/sh -c) on every change with LIFELINE_STATE, LIFELINE_REASON and LIFELINE_DEVICE set.
  hook: espeak-ng "lifeline $LIFELINE_STATE"

log: { level: info, pretty: false }
`;

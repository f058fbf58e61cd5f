/**
 * The one access rule: which devices a person may reach. Used by logins (`USER:DEVICE`), the
 * device menu and `lifeline-relay devices --user NAME`, so the three can never disagree.
 */

/** What the rule is decided from, on the person's side: relay.yaml's or the store's entry. */
export interface AccessGrant {
  /** Device ids and globs (`*` any run of characters, `?` one character). */
  devices: readonly string[];
  /** Label selectors: a device carrying every label of one selector may be reached. */
  deviceLabels: ReadonlyArray<Readonly<Record<string, string>>>;
  /** The device a plain `USER` login reaches, if set. */
  defaultDevice?: string | undefined;
}

/** What the rule looks at on the device's side. */
export interface AccessTarget {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

const isGlob = (pattern: string) => /[*?]/.test(pattern);

/** `rtr-tokyo-*` as an anchored regular expression; every other character is literal. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * A person's grant, compiled once per inventory snapshot: ids in a Set, globs as regular
 * expressions, so checking one device costs a lookup and a few matches, whatever the fleet size.
 */
export class DeviceAccess {
  private readonly ids: ReadonlySet<string>;
  private readonly globs: readonly RegExp[];
  private readonly selectors: ReadonlyArray<ReadonlyArray<[string, string]>>;
  /** The login default before it is checked against the inventory (see defaultFor). */
  readonly defaultCandidate: string | undefined;

  constructor(grant: AccessGrant) {
    this.ids = new Set(grant.devices.filter((d) => !isGlob(d)));
    this.globs = grant.devices.filter(isGlob).map(globToRegExp);
    this.selectors = grant.deviceLabels.map((s) => Object.entries(s));
    // Before defaultDevice existed the first device was the default: existing files keep working.
    const first = grant.devices[0];
    this.defaultCandidate = grant.defaultDevice ?? (first !== undefined && !isGlob(first) ? first : undefined);
  }

  /** Ids named literally (for warnings about ids that name no device). */
  get namedIds(): ReadonlySet<string> {
    return this.ids;
  }

  allows(device: AccessTarget): boolean {
    if (this.ids.has(device.id)) return true;
    if (this.globs.some((g) => g.test(device.id))) return true;
    return this.selectors.some((selector) => selector.every(([k, v]) => device.labels[k] === v));
  }

  /** The device a plain `USER` login reaches: the default if it exists and is allowed; else undefined (the menu). */
  defaultFor(lookup: (id: string) => AccessTarget | undefined): string | undefined {
    const id = this.defaultCandidate;
    if (id === undefined) return undefined;
    const device = lookup(id);
    return device && this.allows(device) ? id : undefined;
  }
}

/**
 * The same value with every repeated string held once. A structured clone (how the config reader
 * process hands back a config) makes a fresh copy of every string it carries, so a relay.yaml of
 * 10,000 devices and users arrives with 10,000 copies of each default (`serial`, `engineer`, a
 * person's key shared by many users...). Walking it once and keeping the first copy of each
 * string lets the rest be collected. Plain data only (objects, arrays, strings, numbers,
 * booleans, null): what a config is. Changes `value` in place and returns it.
 */
export function shareRepeatedStrings<T>(value: T): T {
  const seen = new Map<string, string>();
  const share = (s: string): string => {
    const first = seen.get(s);
    if (first !== undefined) return first;
    seen.set(s, s);
    return s;
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return share(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = walk(node[i]);
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = walk(record[key]);
    }
    return node;
  };
  return walk(value) as T;
}

import { z } from 'zod';

/** The part of a JSON Schema (as `z.toJSONSchema` writes it for our config schemas) that the tables show. */
interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
}

/** One documented key: its path (`users[].devices`), type, default, allowed values and description. */
export interface KeyRow {
  key: string;
  type: string;
  default: string;
  allowed: string;
  description: string;
}

/** The keys of one object in a config file (the top level, `listen`, `users[]`, a `console` variant). */
export interface KeyTable {
  /** Markdown heading text, e.g. "Top level", "`users[]`", "`console` with `type: serial`". */
  title: string;
  rows: KeyRow[];
}

/**
 * Describes every key of a config schema as tables, one per object, depth first. Works from
 * `z.toJSONSchema(schema, { io: 'input' })`, so defaulted keys count as optional (as they are to
 * someone writing the file) and cross-key refinements, which JSON Schema cannot express, are left out.
 */
export function schemaTables(schema: z.ZodType): KeyTable[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  const tables: KeyTable[] = [];
  addObject(json, '', 'Top level', tables);
  return tables;
}

function addObject(node: JsonSchema, path: string, title: string, tables: KeyTable[]): void {
  const table: KeyTable = { title, rows: [] };
  tables.push(table);
  const nested: Array<() => void> = [];
  const required = new Set(node.required ?? []);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = path ? `${path}.${name}` : name;
    const row: KeyRow = {
      key: code(key),
      type: typeOf(child),
      default: defaultOf(child, required.has(name)),
      allowed: allowedOf(child),
      description: cell(child.description ?? ''),
    };
    table.rows.push(row);
    const variants = objectVariants(child);
    const hasKeys = isObject(child) || (child.type === 'array' && child.items !== undefined && isObject(child.items)) || variants;
    if (hasKeys && !row.allowed) row.allowed = 'keys below';
    if (variants) row.allowed = `${code(variants.tag)}: ${variants.list.map((v) => code(String(v.value))).join(', ')}; keys below`;
    if (isObject(child)) {
      nested.push(() => addObject(child, key, code(key), tables));
    } else if (child.type === 'array' && child.items && isObject(child.items)) {
      const items = child.items;
      nested.push(() => addObject(items, `${key}[]`, code(`${key}[]`), tables));
    } else if (variants) {
      for (const v of variants.list) {
        nested.push(() => addObject(v.schema, key, `${code(key)} with ${code(`${variants.tag}: ${String(v.value)}`)}`, tables));
      }
    }
  }
  for (const add of nested) add();
}

function isObject(node: JsonSchema): boolean {
  return node.type === 'object' && node.properties !== undefined;
}

/** A union of objects told apart by one key with a constant value (zod's discriminatedUnion). */
function objectVariants(node: JsonSchema): { tag: string; list: Array<{ value: unknown; schema: JsonSchema }> } | undefined {
  const options = node.anyOf ?? node.oneOf;
  if (!options || options.length === 0 || !options.every(isObject)) return undefined;
  const first = options[0]!;
  const tag = Object.keys(first.properties ?? {}).find((k) => options.every((o) => o.properties?.[k]?.const !== undefined));
  if (tag === undefined) return undefined;
  return { tag, list: options.map((o) => ({ value: o.properties![tag]!.const, schema: o })) };
}

function typeOf(node: JsonSchema): string {
  const variants = objectVariants(node);
  if (variants) return `object, by ${code(variants.tag)}`;
  const options = node.anyOf ?? node.oneOf;
  if (options) return [...new Set(options.map(typeOf))].join(' or ');
  if (node.type === 'array') return node.items ? `list of ${plural(typeOf(node.items))}` : 'list';
  return node.type ?? 'any';
}

function plural(type: string): string {
  return type.endsWith('y') ? `${type.slice(0, -1)}ies` : type === 'any' ? 'values' : `${type}s`;
}

function defaultOf(node: JsonSchema, required: boolean): string {
  if (node.default === undefined) return required ? '**required**' : 'optional, no default';
  // `.prefault({})` (the input {} parsed, so every key takes its own default) or a default spelling them all out.
  if (isObject(node) && (sameJson(node.default, {}) || sameJson(node.default, defaultsOfKeys(node)))) return 'the defaults below';
  return code(JSON.stringify(node.default));
}

function defaultsOfKeys(node: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(node.properties ?? {})) if (child.default !== undefined) out[name] = child.default;
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .sort(([x], [y]) => x.localeCompare(y))
            .map(([k, x]) => [k, sorted(x)]),
        )
      : v;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function allowedOf(node: JsonSchema): string {
  const parts: string[] = [];
  if (node.const !== undefined) parts.push(code(literal(node.const)));
  if (node.enum) parts.push(node.enum.map((v) => code(literal(v))).join(', '));
  const options = node.anyOf ?? node.oneOf;
  if (options && !objectVariants(node)) {
    if (options.every((o) => o.const !== undefined)) parts.push(options.map((o) => code(literal(o.const))).join(', '));
    else parts.push(options.map(allowedOf).filter(Boolean).join('; or '));
  }
  const range = rangeOf(node);
  if (range) parts.push(range);
  if (node.minLength !== undefined || node.maxLength !== undefined) parts.push(lengthOf(node.minLength, node.maxLength));
  if (node.pattern !== undefined) parts.push(`matches ${code(node.pattern)}`);
  if (node.minItems !== undefined && node.minItems > 0)
    parts.push(`at least ${node.minItems} ${node.minItems === 1 ? 'entry' : 'entries'}`);
  if (node.maxItems !== undefined) parts.push(`at most ${node.maxItems} entries`);
  if (node.type === 'array' && node.items && !isObject(node.items)) {
    const each = allowedOf(node.items);
    if (each) parts.push(`each ${each}`);
  }
  return parts.join(', ');
}

/** zod writes `Number.MAX_SAFE_INTEGER` as the bound of an int with none; that is no bound to a reader. */
function bound(value: number | undefined): number | undefined {
  return value === undefined || Math.abs(value) >= Number.MAX_SAFE_INTEGER ? undefined : value;
}

function rangeOf(node: JsonSchema): string {
  const min = bound(node.minimum);
  const max = bound(node.maximum);
  const xmin = bound(node.exclusiveMinimum);
  const xmax = bound(node.exclusiveMaximum);
  if (min !== undefined && max !== undefined) return `${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`>= ${min}`);
  if (xmin !== undefined) parts.push(`> ${xmin}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  if (xmax !== undefined) parts.push(`< ${xmax}`);
  return parts.join(' and ');
}

function lengthOf(min: number | undefined, max: number | undefined): string {
  if (max === undefined) return min === 1 ? 'not empty' : `at least ${min} characters`;
  return `${min ?? 0} to ${max} characters`;
}

/** Inline code that survives any backticks in the text, with table pipes escaped. */
export function code(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return cell(`${fence}${pad}${text}${pad}${fence}`);
}

/** Text safe inside a Markdown table cell: no line breaks, pipes escaped (GFM splits cells on them, even in code). */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** A schema literal as the docs show it: strings bare, anything else as JSON. */
function literal(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

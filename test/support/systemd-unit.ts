import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** deploy/systemd/, where the units the packages install are. */
export const unitsDir = fileURLToPath(new URL('../../deploy/systemd/', import.meta.url));

/** `Key=value` lines of a unit's [Service] section, as [key, value] pairs. */
export async function serviceSettings(unit: string): Promise<Array<[string, string]>> {
  const text = await readFile(join(unitsDir, unit), 'utf8');
  const section = text.split(/^\[/m).find((s) => s.startsWith('Service]')) ?? '';
  return section
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

/** The environment a unit sets (`Environment=`, systemd's quoting: one assignment per quoted word). */
export async function serviceEnvironment(unit: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [key, value] of await serviceSettings(unit)) {
    if (key !== 'Environment') continue;
    const assignment = value.replace(/^"(.*)"$/, '$1');
    env[assignment.slice(0, assignment.indexOf('='))] = assignment.slice(assignment.indexOf('=') + 1);
  }
  return env;
}

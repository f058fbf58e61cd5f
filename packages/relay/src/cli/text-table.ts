import { printable } from '@lifeline/shared';

/**
 * Columns padded to their widest cell, two spaces apart; the last column is not padded. Every
 * cell goes through `printable()`: tables show text from agents and clients (version strings,
 * console messages, user names), whose control characters must never reach the terminal raw.
 */
export function renderTable(table: readonly (readonly string[])[]): string {
  const rows = table.map((r) => r.map((cell) => printable(cell)));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** Bytes for people: "512B", "1.5K", "12K", "3.4M" (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  const units = ['K', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)}${units[unit]}`;
}

// Benchmark reporting: aligned tables on stdout, so runs can be compared by eye and by diff.
export interface Row {
  [column: string]: string | number;
}

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  if (rows.length === 0) return;
  // Every key of every row, in first-seen order: later rows may add columns (blank where a row has none).
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]) => values.map((v, i) => v.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(columns));
  for (const r of cells) console.log(line(r));
}

function formatCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function peakRssMiB(): number {
  // resourceUsage().maxRSS is in KiB on Linux.
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

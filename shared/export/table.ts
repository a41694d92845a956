// The human-readable view of findings for a terminal: an aligned table and a summary of severities, keys and PQC.
import { SEVERITIES } from '#shared/findings/index';
import type { Finding, HighestSeverity } from '#shared/findings/index';
import { keyAlgorithm } from './cbom-algorithms';

export interface FindingsSummary {
  total: number;
  analysed: number;
  parseErrors: number;
  bySeverity: Record<HighestSeverity, number>;
  /** Key algorithm label (RSA-2048, EC-P-256, Ed25519, ML-DSA-65...) to count, most common first. */
  byKeyAlgorithm: [string, number][];
  quantumVulnerable: number;
}

/** The same label the CBOM gives the key's algorithm component, so the two outputs can be matched by eye. */
export function keyLabel(finding: Finding): string | null {
  const key = finding.crypto.x509.public_key;
  return key === undefined ? null : keyAlgorithm(key, finding.analysis.pqc).name;
}

export function summarizeFindings(findings: Iterable<Finding>): FindingsSummary {
  const bySeverity = Object.fromEntries([...SEVERITIES, 'none'].map((severity) => [severity, 0])) as Record<
    HighestSeverity,
    number
  >;
  const keys = new Map<string, number>();
  let total = 0;
  let analysed = 0;
  let quantumVulnerable = 0;
  for (const finding of findings) {
    total++;
    bySeverity[finding.analysis.highest_severity]++;
    if (finding.analysis.status !== 'analysed') continue;
    analysed++;
    if (finding.analysis.pqc?.readiness === 'vulnerable') quantumVulnerable++;
    const label = keyLabel(finding) ?? 'unknown';
    keys.set(label, (keys.get(label) ?? 0) + 1);
  }
  const byKeyAlgorithm = [...keys].sort(([a, countA], [b, countB]) => countB - countA || a.localeCompare(b));
  return { total, analysed, parseErrors: total - analysed, bySeverity, byKeyAlgorithm, quantumVulnerable };
}

/**
 * Certificate text is attacker-controlled: C0/C1 controls (ANSI escapes, carriage returns) would rewrite the terminal
 * and bidirectional overrides would reorder what is shown, so both are shown as escapes instead.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

interface TableColumn {
  title: string;
  /** Longest cell shown; longer values are shortened with an ellipsis. */
  maxWidth: number;
  /** Paths are shortened from the left: the file name matters more than the directory. */
  keepEnd?: boolean;
  value: (finding: Finding) => string;
}

const DASH = '-';

const TABLE_COLUMNS: readonly TableColumn[] = [
  { title: 'FILE', maxWidth: 40, keepEnd: true, value: (f) => f.observation.file?.path ?? DASH },
  {
    title: 'CN',
    maxWidth: 40,
    value: (f) =>
      f.analysis.parse_error === undefined
        ? (f.crypto.x509.common_name ?? f.object.name)
        : `(unreadable: ${f.analysis.parse_error.reason})`,
  },
  { title: 'KEY', maxWidth: 24, value: (f) => keyLabel(f) ?? DASH },
  { title: 'SIGNATURE', maxWidth: 32, value: (f) => f.crypto.x509.signature?.algorithm_name ?? DASH },
  { title: 'NOT AFTER', maxWidth: 10, value: (f) => f.crypto.x509.not_after?.slice(0, 10) ?? DASH },
  { title: 'SEVERITY', maxWidth: 8, value: (f) => f.analysis.highest_severity },
  {
    title: 'RULES',
    maxWidth: Number.POSITIVE_INFINITY,
    value: (f) => f.analysis.rules.map((rule) => rule.id).join(',') || DASH,
  },
];

/** Width in code points, so an emoji or an accented name counts once (East Asian wide forms are not measured). */
function width(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function fit(text: string, maxWidth: number, keepEnd: boolean): string {
  const characters = [...text];
  if (characters.length <= maxWidth) return text;
  return keepEnd
    ? `…${characters.slice(characters.length - maxWidth + 1).join('')}`
    : `${characters.slice(0, maxWidth - 1).join('')}…`;
}

const pad = (text: string, to: number): string => text + ' '.repeat(Math.max(0, to - width(text)));

/** One line per finding under a header, columns padded to their widest (capped) cell. */
export function formatFindingsTable(findings: readonly Finding[]): string {
  const rows = findings.map((finding) =>
    TABLE_COLUMNS.map((column) =>
      fit(terminalSafe(column.value(finding)), column.maxWidth, column.keepEnd ?? false),
    ),
  );
  const widths = TABLE_COLUMNS.map((column, index) =>
    Math.max(width(column.title), ...rows.map((row) => width(row[index] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => (index === cells.length - 1 ? cell : pad(cell, widths[index] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(TABLE_COLUMNS.map((column) => column.title)), ...rows.map(line)].join('\n') + '\n';
}

/** Enough to see the mix; the long tail of one-off algorithms is counted rather than listed. */
const KEY_ALGORITHMS_LISTED = 12;

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

export function formatFindingsSummary(summary: FindingsSummary): string {
  const severities = [...SEVERITIES, 'none' as const]
    .map((severity) => `${severity} ${summary.bySeverity[severity]}`)
    .join(', ');
  const listed = summary.byKeyAlgorithm
    .slice(0, KEY_ALGORITHMS_LISTED)
    .map(([label, count]) => `${label} ${count}`);
  const rest = summary.byKeyAlgorithm.slice(KEY_ALGORITHMS_LISTED);
  if (rest.length > 0) {
    listed.push(`${rest.length} more with ${rest.reduce((sum, [, count]) => sum + count, 0)} keys`);
  }
  const keys = listed.join(', ') || DASH;
  return (
    [
      `Certificates: ${summary.total} (${summary.analysed} analysed, ${summary.parseErrors} unreadable)`,
      `Highest severity: ${severities}`,
      `Key algorithms: ${keys}`,
      `Quantum-vulnerable keys: ${summary.quantumVulnerable} of ${summary.analysed} analysed (${percent(summary.quantumVulnerable, summary.analysed)})`,
    ].join('\n') + '\n'
  );
}

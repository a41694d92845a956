// CSV of findings for spreadsheets: fixed columns, RFC 4180 quoting, cells neutralised against formula injection.
import type { Writable } from 'node:stream';
import type { Finding } from '#shared/findings/index';
import { BatchedWriter, eachItem } from './stream';
import type { FindingSource } from './stream';

const DAY_MS = 86_400_000;

/** How a cell is written: text goes through the formula-injection rule, numbers are the sensor's own and do not. */
type CellValue = { text: string } | { number: number } | null;

interface CsvColumn {
  name: string;
  value: (finding: Finding) => CellValue;
}

const text = (value: string | null | undefined): CellValue =>
  value === null || value === undefined ? null : { text: value };
const numeric = (value: number | null | undefined): CellValue =>
  value === null || value === undefined || !Number.isFinite(value) ? null : { number: value };

/** Whole days from the analysis instant to notAfter, rounded down: 0 on the last day, negative once expired. */
function daysToExpiry(finding: Finding): number | null {
  const notAfter = finding.crypto.x509.not_after;
  if (notAfter === undefined) return null;
  const remainingMs = Date.parse(notAfter) - Date.parse(finding['@timestamp']);
  return Number.isFinite(remainingMs) ? Math.floor(remainingMs / DAY_MS) : null;
}

function parseErrorText(finding: Finding): string | null {
  const error = finding.analysis.parse_error;
  return error === undefined ? null : `${error.reason}: ${error.message}`;
}

/** Multi-valued cells use ";", which no DNS name or rule id can contain. */
const LIST_SEPARATOR = ';';

/**
 * The columns, in order. Append new columns at the end: consumers address columns by position as often as by name.
 * Key material never appears: the public key is described (algorithm, size, curve), not copied.
 */
export const CSV_COLUMNS: readonly CsvColumn[] = Object.freeze([
  { name: 'finding_id', value: (f) => text(f.id) },
  { name: 'command_certificate_id', value: (f) => numeric(f.observation.source.certificate_id) },
  { name: 'common_name', value: (f) => text(f.crypto.x509.common_name) },
  { name: 'subject', value: (f) => text(f.crypto.x509.subject?.dn) },
  { name: 'issuer', value: (f) => text(f.crypto.x509.issuer?.dn) },
  { name: 'serial_number', value: (f) => text(f.crypto.x509.serial_number) },
  { name: 'not_before', value: (f) => text(f.crypto.x509.not_before) },
  { name: 'not_after', value: (f) => text(f.crypto.x509.not_after) },
  { name: 'days_to_expiry', value: (f) => numeric(daysToExpiry(f)) },
  { name: 'key_algorithm', value: (f) => text(f.crypto.x509.public_key?.algorithm) },
  { name: 'key_size_bits', value: (f) => numeric(f.crypto.x509.public_key?.key_size_bits) },
  { name: 'curve', value: (f) => text(f.crypto.x509.public_key?.curve) },
  { name: 'signature_algorithm', value: (f) => text(f.crypto.x509.signature?.algorithm_name) },
  { name: 'signature_hash', value: (f) => text(f.crypto.x509.signature?.hash) },
  {
    name: 'san_dns',
    value: (f) => text(f.crypto.x509.subject_alt_names?.dns.join(LIST_SEPARATOR)),
  },
  { name: 'highest_severity', value: (f) => text(f.analysis.highest_severity) },
  { name: 'rule_ids', value: (f) => text(f.analysis.rules.map((rule) => rule.id).join(LIST_SEPARATOR)) },
  { name: 'pqc_readiness', value: (f) => text(f.analysis.pqc?.readiness) },
  { name: 'cert_state', value: (f) => text(f.crypto.x509.keyfactor?.cert_state.name) },
  { name: 'template', value: (f) => text(f.crypto.x509.keyfactor?.template_name) },
  { name: 'certificate_authority', value: (f) => text(f.crypto.x509.keyfactor?.certificate_authority_name) },
  { name: 'store_locations', value: (f) => numeric(f.crypto.x509.keyfactor?.locations.length) },
  { name: 'analysis_status', value: (f) => text(f.analysis.status) },
  { name: 'parse_error', value: (f) => text(parseErrorText(f)) },
  { name: 'source_file', value: (f) => text(f.observation.file?.path) },
]);

export const CSV_HEADER: readonly string[] = Object.freeze(CSV_COLUMNS.map((column) => column.name));

/**
 * Characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP "CSV Injection"): = + - @,
 * and TAB and CR, which some importers strip before looking at the next character.
 */
const FORMULA_TRIGGER = /^[=+\-@\t\r]/;
/** RFC 4180: a field holding a quote, a comma or a line break must be quoted. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One text cell as written: a leading apostrophe when the value starts with a formula trigger (spreadsheets show the
 * text and hide the apostrophe), then RFC 4180 quoting with inner quotes doubled.
 */
export function csvTextCell(value: string): string {
  const neutralised = FORMULA_TRIGGER.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(neutralised) ? `"${neutralised.replaceAll('"', '""')}"` : neutralised;
}

function csvCell(value: CellValue): string {
  if (value === null) return '';
  // Numbers are computed by the sensor (ids, sizes, day counts), never copied from a certificate: a negative day count
  // is a number to a spreadsheet, not a formula, and an apostrophe would turn it into text.
  if ('number' in value) return String(value.number);
  return csvTextCell(value.text);
}

const CRLF = '\r\n';

export function csvHeaderLine(): string {
  return CSV_HEADER.map(csvTextCell).join(',') + CRLF;
}

/** One finding as one CSV record, CRLF included. */
export function findingToCsvLine(finding: Finding): string {
  return CSV_COLUMNS.map((column) => csvCell(column.value(finding))).join(',') + CRLF;
}

/**
 * Writes the header and one record per finding to `out`, streaming: findings are read one at a time and written in
 * batches that wait for the stream to drain, so a million rows need no more memory than a few. Does not end `out`.
 */
export async function writeFindingsCsv(findings: FindingSource<Finding>, out: Writable): Promise<number> {
  const writer = new BatchedWriter(out);
  await writer.write(csvHeaderLine());
  let rows = 0;
  for await (const finding of eachItem(findings)) {
    await writer.write(findingToCsvLine(finding));
    rows++;
  }
  await writer.flush();
  return rows;
}

/** The whole CSV as a string, for tests and small sets. */
export function findingsToCsv(findings: Iterable<Finding>): string {
  let csv = csvHeaderLine();
  for (const finding of findings) csv += findingToCsvLine(finding);
  return csv;
}

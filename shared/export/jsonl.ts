// JSON Lines of findings: one complete finding document per line, for log shippers, jq and bulk loaders.
import type { Writable } from 'node:stream';
import type { Finding } from '#shared/findings/index';
import { BatchedWriter, eachItem } from './stream';
import type { FindingSource } from './stream';

/** One finding as one line. JSON.stringify escapes every line break inside strings, so a record is always one line. */
export function findingToJsonLine(finding: Finding): string {
  return `${JSON.stringify(finding)}\n`;
}

/** Streams one line per finding to `out`, waiting for 'drain' between batches. Does not end `out`. */
export async function writeFindingsJsonl(findings: FindingSource<Finding>, out: Writable): Promise<number> {
  const writer = new BatchedWriter(out);
  let lines = 0;
  for await (const finding of eachItem(findings)) {
    await writer.write(findingToJsonLine(finding));
    lines++;
  }
  await writer.flush();
  return lines;
}

/** The whole JSONL text as a string, for tests and small sets. */
export function findingsToJsonl(findings: Iterable<Finding>): string {
  let jsonl = '';
  for (const finding of findings) jsonl += findingToJsonLine(finding);
  return jsonl;
}

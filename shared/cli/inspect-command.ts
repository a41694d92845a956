// `kfsensor inspect`: analyse certificate files (PEM bundles, DER, whole directories) without Command, and export them.
import { createWriteStream } from 'node:fs';
import { readFile, readdir, realpath, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { InputError } from '#shared/errors';
import { DEFAULT_EXPIRING_WITHIN_DAYS, analyseDer } from '#shared/findings/index';
import type { AnalysisContext, Finding } from '#shared/findings/index';
import {
  findingsToCbomJson,
  formatFindingsSummary,
  formatFindingsTable,
  summarizeFindings,
  terminalSafe,
  writeFindingsCsv,
} from '#shared/export/index';
import { CertificateParseError, pemToDers } from '#shared/x509/index';

export interface InspectOptions {
  json?: boolean;
  cbom?: string;
  csv?: string;
  expiringDays?: number;
}

/** Larger files are not certificate stores; reading them whole would only waste memory. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const PEM_BEGIN = '-----BEGIN ';
const PEM_DASHES = '-----';

export interface InspectIo {
  stdout: NodeJS.WritableStream;
  /** Notices about skipped files and blocks, and where exports went; never findings. */
  notice: (line: string) => void;
}

interface InspectReport {
  findings: Finding[];
  filesRead: number;
  filesWithoutCertificates: number;
  blocksSkipped: number;
}

const nonNegativeInteger = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of days (0 or more)');
  return Number(value);
};

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('Analyse certificate files (PEM, DER; directories recursively) without Keyfactor Command')
    .argument('<paths...>', 'certificate files or directories')
    .option('--json', 'print the findings as a JSON array instead of a table', false)
    .option('--cbom <file>', 'also write a CycloneDX 1.6 CBOM of the findings to this file')
    .option('--csv <file>', 'also write the findings as CSV to this file')
    .option(
      '--expiring-days <days>',
      `report certificates expiring within this many days (default ${DEFAULT_EXPIRING_WITHIN_DAYS})`,
      nonNegativeInteger,
    )
    .action(async (paths: string[], options: InspectOptions) => {
      // A reader that stops early (`kfsensor inspect --json dir | head`) closes the pipe: that ends the output, it is
      // not a failure worth a stack trace.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
      });
      await runInspect(
        paths,
        options,
        {
          stdout: process.stdout,
          // Paths and parse messages come from the files: keep their control characters off the terminal.
          notice: (line) => process.stderr.write(`kfsensor: ${terminalSafe(line)}\n`),
        },
        program.version() ?? '0.0.0',
      );
    });
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // userInfo throws for uids without a passwd entry (common in containers).
    return process.env.USER ?? 'unknown';
  }
}

async function statOrFail(target: string): Promise<Stats> {
  try {
    return await stat(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const shown = terminalSafe(target);
    if (code === 'ENOENT') throw new InputError(`${shown}: no such file or directory`);
    throw new InputError(`${shown}: cannot read (${code ?? String(error)})`);
  }
}

/** Export files are checked before any analysis so a typo in a path does not cost a whole run. */
async function checkWritableTarget(file: string, option: string): Promise<void> {
  const directory = path.dirname(path.resolve(file));
  let info: Stats;
  try {
    info = await stat(directory);
  } catch {
    throw new InputError(`${option} ${file}: directory ${directory} does not exist`);
  }
  if (!info.isDirectory()) throw new InputError(`${option} ${file}: ${directory} is not a directory`);
}

/**
 * Regular files under `target` in name order, symlinks followed (certificate directories such as /etc/ssl/certs are
 * mostly links) and each real directory visited once, so link loops end.
 */
async function* filesUnder(
  target: string,
  info: Stats,
  visited: Set<string>,
  notice: (line: string) => void,
): AsyncGenerator<{ file: string; size: number }> {
  if (info.isFile()) {
    yield { file: target, size: info.size };
    return;
  }
  if (!info.isDirectory()) {
    notice(`${target}: not a regular file or directory; skipped`);
    return;
  }
  const real = await realpath(target);
  if (visited.has(real)) return;
  visited.add(real);
  let names: string[];
  try {
    names = (await readdir(target)).sort();
  } catch (error) {
    notice(`${target}: cannot list (${(error as NodeJS.ErrnoException).code ?? String(error)}); skipped`);
    return;
  }
  for (const name of names) {
    const child = path.join(target, name);
    let childInfo: Stats;
    try {
      childInfo = await stat(child);
    } catch (error) {
      notice(`${child}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)}); skipped`);
      continue;
    }
    yield* filesUnder(child, childInfo, visited, notice);
  }
}

interface PemBlock {
  text: string;
  line: number;
}

/**
 * The PEM blocks of a text, each with its line number. pemToDers takes a whole file and stops at the first bad
 * block; splitting first lets one corrupt block in a bundle be reported while the other certificates are analysed.
 */
function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let line = 1;
  let counted = 0;
  let from = text.indexOf(PEM_BEGIN);
  while (from >= 0) {
    for (let i = counted; i < from; i++) if (text.charCodeAt(i) === 0x0a) line++;
    counted = from;
    const endMarker = text.indexOf('-----END ', from + PEM_BEGIN.length);
    const closing = endMarker < 0 ? -1 : text.indexOf(PEM_DASHES, endMarker + 9);
    const end = closing < 0 ? text.length : closing + PEM_DASHES.length;
    blocks.push({ text: text.slice(from, end), line });
    from = text.indexOf(PEM_BEGIN, end);
  }
  return blocks;
}

function describeParseError(error: unknown): string {
  return error instanceof CertificateParseError ? `${error.reason}: ${error.message}` : String(error);
}

type Extraction = { ders: Uint8Array[]; skippedBlocks: number } | { ders: null; reason: string };

/** The certificate DERs in a file: PEM blocks (any number), a raw DER certificate, or bare base64. */
function extractCertificates(file: string, bytes: Buffer, notice: (line: string) => void): Extraction {
  // Latin-1 maps every byte to one character, so offsets and PEM markers survive binary or odd encodings.
  const text = bytes.toString('latin1');
  if (!text.includes(PEM_BEGIN)) {
    try {
      return { ders: pemToDers(bytes), skippedBlocks: 0 };
    } catch (error) {
      if (error instanceof CertificateParseError) return { ders: null, reason: describeParseError(error) };
      throw error;
    }
  }
  const ders: Uint8Array[] = [];
  let skippedBlocks = 0;
  for (const block of pemBlocks(text)) {
    try {
      ders.push(...pemToDers(block.text));
    } catch (error) {
      if (!(error instanceof CertificateParseError)) throw error;
      skippedBlocks++;
      notice(
        `${file}: PEM block at line ${block.line} cannot be decoded (${describeParseError(error)}); skipped`,
      );
    }
  }
  return { ders, skippedBlocks };
}

async function inspectPaths(
  paths: readonly string[],
  baseContext: Omit<AnalysisContext, 'filePath' | 'source'>,
  notice: (line: string) => void,
): Promise<InspectReport> {
  // Every path is checked before any is read: a missing one is a usage error, not a partial result.
  const targets: [string, Stats][] = [];
  for (const target of paths) targets.push([target, await statOrFail(target)]);

  const report: InspectReport = { findings: [], filesRead: 0, filesWithoutCertificates: 0, blocksSkipped: 0 };
  const visited = new Set<string>();
  for (const [target, info] of targets) {
    for await (const { file, size } of filesUnder(target, info, visited, notice)) {
      if (size > MAX_FILE_BYTES) {
        notice(`${file}: ${size} bytes is too large for a certificate file; skipped`);
        report.filesWithoutCertificates++;
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        notice(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)}); skipped`);
        continue;
      }
      report.filesRead++;
      const extraction = extractCertificates(file, bytes, notice);
      if (extraction.ders === null || (extraction.ders.length === 0 && extraction.skippedBlocks === 0)) {
        const why = extraction.ders === null ? ` (${extraction.reason})` : '';
        notice(`${file}: no certificate found${why}; skipped`);
        report.filesWithoutCertificates++;
        continue;
      }
      report.blocksSkipped += extraction.skippedBlocks;
      const context: AnalysisContext = {
        ...baseContext,
        source: { url: pathToFileURL(path.resolve(file)).href },
        filePath: file,
      };
      for (const der of extraction.ders) report.findings.push(analyseDer(der, context));
    }
  }
  return report;
}

async function writeCsvFile(file: string, findings: readonly Finding[]): Promise<void> {
  const out = createWriteStream(file);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  // The stream's own error wins the race if the file cannot be opened or written.
  await Promise.race([writeFindingsCsv(findings, out), failed]);
  out.end();
  await Promise.race([finished(out), failed]);
}

/** Runs `kfsensor inspect`; throws InputError for a missing path or an unusable output file (exit code 2). */
export async function runInspect(
  paths: readonly string[],
  options: InspectOptions,
  io: InspectIo,
  sensorVersion: string,
): Promise<void> {
  if (options.cbom !== undefined) await checkWritableTarget(options.cbom, '--cbom');
  if (options.csv !== undefined) await checkWritableTarget(options.csv, '--csv');
  const baseContext: Omit<AnalysisContext, 'filePath' | 'source'> = {
    now: new Date(),
    sensor: { name: 'kfsensor', version: sensorVersion, ranBy: currentUser() },
    ...(options.expiringDays === undefined ? {} : { expiringWithinDays: options.expiringDays }),
  };
  const report = await inspectPaths(paths, baseContext, io.notice);
  const { findings } = report;

  if (options.cbom !== undefined) {
    try {
      await writeFile(options.cbom, findingsToCbomJson(findings, { toolVersion: sensorVersion }), 'utf8');
    } catch (error) {
      throw new InputError(`--cbom ${options.cbom}: cannot write (${describeIoError(error)})`, {
        cause: error,
      });
    }
    io.notice(`wrote a CycloneDX 1.6 CBOM of ${findings.length} findings to ${options.cbom}`);
  }
  if (options.csv !== undefined) {
    try {
      await writeCsvFile(options.csv, findings);
    } catch (error) {
      throw new InputError(`--csv ${options.csv}: cannot write (${describeIoError(error)})`, {
        cause: error,
      });
    }
    io.notice(`wrote ${findings.length} CSV rows to ${options.csv}`);
  }

  if (options.json === true) {
    io.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
    return;
  }
  const files = `Files: ${report.filesRead} read, ${report.filesWithoutCertificates} without certificates${
    report.blocksSkipped > 0 ? `, ${report.blocksSkipped} undecodable PEM blocks skipped` : ''
  }\n`;
  io.stdout.write(
    `${findings.length > 0 ? formatFindingsTable(findings) : 'No certificates found.\n'}\n${formatFindingsSummary(summarizeFindings(findings))}${files}`,
  );
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return terminalSafe(code ?? (error instanceof Error ? error.message : String(error)));
}

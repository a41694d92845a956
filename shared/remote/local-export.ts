// local_export: the reports of a remote scan written into output_dir. Each file is written to a temporary name in the
// same directory, fsynced and renamed over the final name, so a reader never sees a half-written report (a crash
// leaves at most a stray .tmp file, removed by the next run).
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  openSync,
  fsyncSync,
  closeSync,
} from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { LocalExportPluginConfig } from '#shared/config/index';
import {
  CbomBuilder,
  csvHeaderLine,
  findingToCsvLine,
  findingToJsonLine,
  serializeCbom,
} from '#shared/export/index';
import { BatchedWriter } from '#shared/export/stream';
import type { Finding } from '#shared/findings/index';
import type { FindingStore, Resolution, StoredFinding } from '#shared/scan/ports';

export interface LocalExportResult {
  /** Absolute paths written, by kind. */
  files: Partial<Record<'findings' | 'resolutions' | 'csv' | 'cbom', string>>;
  findings: number;
  resolutions: number;
}

const TMP_SUFFIX = '.tmp';

export function reportFileNames(config: Pick<LocalExportPluginConfig, 'filePrefix'>): {
  findings: string;
  resolutions: string;
  csv: string;
  cbom: string;
} {
  const p = config.filePrefix;
  return {
    findings: `${p}-findings.jsonl`,
    resolutions: `${p}-resolutions.jsonl`,
    csv: `${p}-findings.csv`,
    cbom: `${p}-cbom.cdx.json`,
  };
}

/** The document with first_found from the store (the first sighting), as the exporter ships it. */
function documentOf(stored: StoredFinding): Finding {
  return { ...stored.document, first_found: stored.firstSeenAt };
}

/** A report being written to its temp file: commit() makes it the report, abort() leaves the old one untouched. */
export interface AtomicFile {
  out: Writable;
  commit(): Promise<void>;
  abort(): void;
}

/** Opens `<final>.<pid>.<n>.tmp` for writing; commit() fsyncs it, renames it over `final` and fsyncs the directory. */
export async function openAtomically(final: string): Promise<AtomicFile> {
  const dir = path.dirname(final);
  const tmp = `${final}.${process.pid}.${Date.now()}${TMP_SUFFIX}`;
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
  // Kept, not thrown from an event: a write error (a full disk) fails this call, never the process.
  const failure: { error: Error | null } = { error: null };
  out.on('error', (error) => {
    failure.error ??= error;
  });
  const abort = () => {
    out.destroy();
    rmSync(tmp, { force: true });
  };
  try {
    await once(out, 'open');
  } catch (error) {
    abort();
    throw error;
  }
  const commit = async () => {
    try {
      if (failure.error) throw failure.error;
      out.end();
      // Rejects when the stream failed while flushing.
      await finished(out);
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, final);
    } catch (error) {
      abort();
      throw error;
    }
    // The rename itself is durable only once the directory entry is on disk.
    try {
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // Some platforms (Windows) cannot open a directory; the rename is still atomic there.
    }
  };
  return { out, commit, abort };
}

/** Writes through `produce` into a temp file, fsyncs, renames over `final`, fsyncs the directory. */
export async function writeAtomically(
  final: string,
  produce: (out: Writable) => Promise<void>,
): Promise<void> {
  const file = await openAtomically(final);
  try {
    await produce(file.out);
  } catch (error) {
    file.abort();
    throw error;
  }
  await file.commit();
}

/** Removes temp files a crashed earlier run left behind (only ours: the report names with .tmp). */
function removeStaleTemps(dir: string, names: readonly string[]): void {
  for (const entry of readdirSync(dir)) {
    if (entry.endsWith(TMP_SUFFIX) && names.some((n) => entry.startsWith(`${n}.`))) {
      rmSync(path.join(dir, entry), { force: true });
    }
  }
}

/** A store that lists open findings with their stored JSON text (the SQLite store). */
export interface OpenFindingsWithText {
  listOpenWithText(sensorKey: string): AsyncIterable<Array<{ finding: StoredFinding; text: string }>>;
}

/** The open findings page by page, with the stored JSON text when the store has it. */
async function* openPages(
  store: FindingStore,
  sensorKey: string,
): AsyncGenerator<Array<{ finding: StoredFinding; text: string | null }>> {
  const withText = (store as Partial<OpenFindingsWithText>).listOpenWithText;
  if (typeof withText === 'function') {
    yield* withText.call(store, sensorKey);
    return;
  }
  for await (const page of store.listFindings(sensorKey, { status: 'open' })) {
    yield page.map((finding) => ({ finding, text: null }));
  }
}

/**
 * The JSONL line of a stored document (`JSON.stringify` text without first_found, as the store writes it) with
 * first_found set: exactly `findingToJsonLine({ ...document, first_found })`, since the spread appends the absent
 * key last. null when the text has a first_found already or does not look like an object (the caller serializes).
 */
export function jsonLineFromStored(text: string, firstFound: string): string | null {
  if (text.length < 2 || text[0] !== '{' || text[text.length - 1] !== '}' || text.includes('"first_found"'))
    return null;
  const separator = text.length === 2 ? '' : ',';
  return `${text.slice(0, -1)}${separator}"first_found":${JSON.stringify(firstFound)}}\n`;
}

/**
 * Writes the sensor's open findings (JSONL, CSV, CBOM) and this scan's resolutions (JSONL) as `formats` asks.
 * jsonl covers both findings and resolutions. The open findings are read from the store once, page by page, and
 * each page goes to every report (and to `onPage`, which the summary uses), so no report holds them all and the
 * store is not read once per format. Each file is replaced atomically; a failure leaves every previous report.
 */
export async function writeLocalExport(
  config: LocalExportPluginConfig,
  input: {
    findings: FindingStore;
    sensorKey: string;
    scanId: string;
    resolutions: readonly Resolution[];
    /** Called with every page of open findings as the reports read them (the end-of-scan summary). */
    onPage?: (page: readonly Finding[]) => void;
  },
): Promise<LocalExportResult> {
  const dir = path.resolve(config.outputDir);
  mkdirSync(dir, { recursive: true });
  const names = reportFileNames(config);
  removeStaleTemps(dir, Object.values(names));
  const result: LocalExportResult = { files: {}, findings: 0, resolutions: input.resolutions.length };
  const formats = new Set(config.formats);

  const opened: Array<{ kind: keyof LocalExportResult['files']; path: string; file: AtomicFile }> = [];
  const open = async (kind: keyof LocalExportResult['files'], name: string) => {
    const file = path.join(dir, name);
    const handle = await openAtomically(file);
    opened.push({ kind, path: file, file: handle });
    return new BatchedWriter(handle.out);
  };
  try {
    const jsonl = formats.has('jsonl') ? await open('findings', names.findings) : null;
    const csv = formats.has('csv') ? await open('csv', names.csv) : null;
    if (csv) await csv.write(csvHeaderLine());
    // The CBOM is one JSON document: its builder holds one entry per certificate until it is serialized.
    const builder = formats.has('cbom') ? new CbomBuilder() : null;
    let count = 0;
    for await (const page of openPages(input.findings, input.sensorKey)) {
      const documents = page.map(({ finding }) => documentOf(finding));
      input.onPage?.(documents);
      for (let i = 0; i < documents.length; i += 1) {
        const finding = documents[i]!;
        if (jsonl) {
          const { text, finding: stored } = page[i]!;
          await jsonl.write(
            (text === null ? null : jsonLineFromStored(text, stored.firstSeenAt)) ??
              findingToJsonLine(finding),
          );
        }
        if (csv) await csv.write(findingToCsvLine(finding));
        builder?.add(finding);
      }
      count += documents.length;
    }
    await jsonl?.flush();
    await csv?.flush();
    if (formats.has('jsonl')) {
      const resolutions = await open('resolutions', names.resolutions);
      for (const resolution of input.resolutions) await resolutions.write(`${JSON.stringify(resolution)}\n`);
      await resolutions.flush();
    }
    if (builder) {
      const cbom = await open('cbom', names.cbom);
      await cbom.write(serializeCbom(builder.build()));
      await cbom.flush();
    }
    for (const { kind, path: file, file: handle } of opened) {
      await handle.commit();
      result.files[kind] = file;
    }
    result.findings = count;
  } catch (error) {
    for (const { file } of opened) file.abort();
    throw error;
  }
  return result;
}

/** A store that can list one scan's resolutions without reading documents (the SQLite store). */
export interface ResolvedByScan {
  resolvedBy(sensorKey: string, scanId: string): Promise<Resolution[]>;
}

/** This scan's resolutions: findings of the sensor it resolved (the finalizer's own rule for resolution batches). */
export async function resolutionsOf(
  store: FindingStore,
  sensorKey: string,
  scanId: string,
): Promise<Resolution[]> {
  // The SQLite store answers from its index columns; other stores are listed (documents included).
  const direct = (store as Partial<ResolvedByScan>).resolvedBy;
  if (typeof direct === 'function') return direct.call(store, sensorKey, scanId);
  const out: Resolution[] = [];
  for await (const page of store.listFindings(sensorKey, { status: 'resolved' })) {
    for (const f of page) {
      if (f.resolvedByScanId !== scanId || f.resolvedAt === null) continue;
      out.push({
        findingId: f.findingId,
        certificateId: f.certificateId,
        sensorKey: f.sensorKey,
        resolvedAt: f.resolvedAt,
        scanId,
      });
    }
  }
  return out;
}

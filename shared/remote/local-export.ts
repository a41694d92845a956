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

/** Writes through `produce` into `<final>.<pid>.<n>.tmp`, fsyncs, renames over `final`, fsyncs the directory. */
export async function writeAtomically(
  final: string,
  produce: (out: Writable) => Promise<void>,
): Promise<void> {
  const dir = path.dirname(final);
  const tmp = `${final}.${process.pid}.${Date.now()}${TMP_SUFFIX}`;
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
  // Kept, not thrown from an event: a write error (a full disk) fails this call, never the process.
  const failure: { error: Error | null } = { error: null };
  out.on('error', (error) => {
    failure.error ??= error;
  });
  try {
    await once(out, 'open');
    await produce(out);
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
    out.destroy();
    rmSync(tmp, { force: true });
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
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Removes temp files a crashed earlier run left behind (only ours: the report names with .tmp). */
function removeStaleTemps(dir: string, names: readonly string[]): void {
  for (const entry of readdirSync(dir)) {
    if (entry.endsWith(TMP_SUFFIX) && names.some((n) => entry.startsWith(`${n}.`))) {
      rmSync(path.join(dir, entry), { force: true });
    }
  }
}

/** The sensor's open findings page by page from the store: each report streams them, none holds them all. */
async function* openFindings(store: FindingStore, sensorKey: string): AsyncGenerator<Finding> {
  for await (const page of store.listFindings(sensorKey, { status: 'open' })) {
    for (const stored of page) yield documentOf(stored);
  }
}

/**
 * Writes the sensor's open findings (JSONL, CSV, CBOM) and this scan's resolutions (JSONL) as `formats` asks.
 * jsonl covers both findings and resolutions.
 */
export async function writeLocalExport(
  config: LocalExportPluginConfig,
  input: { findings: FindingStore; sensorKey: string; scanId: string; resolutions: readonly Resolution[] },
): Promise<LocalExportResult> {
  const dir = path.resolve(config.outputDir);
  mkdirSync(dir, { recursive: true });
  const names = reportFileNames(config);
  removeStaleTemps(dir, Object.values(names));
  const result: LocalExportResult = { files: {}, findings: 0, resolutions: input.resolutions.length };
  const formats = new Set(config.formats);
  const each = () => openFindings(input.findings, input.sensorKey);

  if (formats.has('jsonl')) {
    const file = path.join(dir, names.findings);
    await writeAtomically(file, async (out) => {
      for await (const finding of each()) {
        await write(out, findingToJsonLine(finding));
        result.findings += 1;
      }
    });
    result.files.findings = file;
    const resolutions = path.join(dir, names.resolutions);
    await writeAtomically(resolutions, async (out) => {
      for (const resolution of input.resolutions) await write(out, `${JSON.stringify(resolution)}\n`);
    });
    result.files.resolutions = resolutions;
  }
  if (formats.has('csv')) {
    const file = path.join(dir, names.csv);
    let rows = 0;
    await writeAtomically(file, async (out) => {
      await write(out, csvHeaderLine());
      for await (const finding of each()) {
        await write(out, findingToCsvLine(finding));
        rows += 1;
      }
    });
    result.findings = rows;
    result.files.csv = file;
  }
  if (formats.has('cbom')) {
    const file = path.join(dir, names.cbom);
    // The CBOM is one JSON document: its builder holds one entry per certificate until it is serialized.
    const builder = new CbomBuilder();
    let count = 0;
    for await (const finding of each()) {
      builder.add(finding);
      count += 1;
    }
    await writeAtomically(file, async (out) => {
      await write(out, serializeCbom(builder.build()));
    });
    result.findings = count;
    result.files.cbom = file;
  }
  return result;
}

/** This scan's resolutions: findings of the sensor it resolved (the finalizer's own rule for resolution batches). */
export async function resolutionsOf(
  store: FindingStore,
  sensorKey: string,
  scanId: string,
): Promise<Resolution[]> {
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

// Simulator dataset files: JSONL, one Command certificate object per line, exactly as the list endpoint returns it.
// Loading checks only what the simulator itself needs (a unique non-negative integer Id per line) so that tests can
// feed deliberately broken certificates (garbage ContentBytes, odd fields) through the simulator to the sensor.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError } from '#shared/errors';
import type { CommandCertificate } from '#shared/keyfactor/model';

/** A dataset file is unreadable or breaks a rule the simulator relies on; the message names file and line. */
export class DatasetError extends InputError {}

/** Writes are batched into blocks of about this size: fewer syscalls, flat memory. */
const WRITE_BATCH_BYTES = 1 << 20;

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  return JSON.stringify(value) ?? typeof value;
}

function isValidId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Tracks Ids already seen so a duplicate names the line of its first appearance. */
class IdRegistry {
  private readonly firstLine = new Map<number, number>();

  constructor(private readonly path: string) {}

  register(record: Record<string, unknown>, line: number): void {
    const id = record.Id;
    if (!isValidId(id)) {
      throw new DatasetError(
        `${this.path} line ${line}: Id must be a non-negative integer, got ${describe(id)}`,
      );
    }
    const first = this.firstLine.get(id);
    if (first !== undefined) {
      throw new DatasetError(`${this.path} line ${line}: Id ${id} appears twice (first on line ${first})`);
    }
    this.firstLine.set(id, line);
  }
}

async function writeAtomically(path: string, writeAll: (file: FileHandle) => Promise<void>): Promise<void> {
  // Same directory as the target, so the final rename stays on one filesystem and is atomic.
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const file = await open(temporary, 'wx');
  try {
    await writeAll(file);
    await file.sync();
    await file.close();
    await rename(temporary, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Writes pre-serialised JSONL blocks (each a whole number of lines ending in "\n"), as the parallel generator
 * produces them, without parsing them again. Nothing is checked: the text is written as given.
 */
export async function saveDatasetText(
  path: string,
  blocks: Iterable<string> | AsyncIterable<string>,
): Promise<{ bytes: number }> {
  let bytes = 0;
  await writeAtomically(path, async (file) => {
    for await (const block of blocks) {
      const buffer = Buffer.from(block, 'utf8');
      await file.write(buffer);
      bytes += buffer.length;
    }
  });
  return { bytes };
}

/**
 * Streams certificates to `path` as JSONL (temp file, fsync, rename: readers never see a half-written dataset).
 * Each certificate needs a unique non-negative integer Id, the one thing loadDataset insists on.
 */
export async function saveDataset(
  path: string,
  certificates: Iterable<CommandCertificate> | AsyncIterable<CommandCertificate>,
): Promise<{ count: number; bytes: number }> {
  const registry = new IdRegistry(path);
  let count = 0;
  let bytes = 0;
  await writeAtomically(path, async (file) => {
    let pending: string[] = [];
    let pendingLength = 0;
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const buffer = Buffer.from(pending.join(''), 'utf8');
      pending = [];
      pendingLength = 0;
      await file.write(buffer);
      bytes += buffer.length;
    };
    for await (const certificate of certificates) {
      count++;
      registry.register(certificate, count);
      const line = `${JSON.stringify(certificate)}\n`;
      pending.push(line);
      pendingLength += line.length;
      if (pendingLength >= WRITE_BATCH_BYTES) await flush();
    }
    await flush();
  });
  return { count, bytes };
}

/**
 * Reads a dataset line by line. Blank lines are skipped; a UTF-8 byte-order mark is ignored. Every other line must be
 * a JSON object with a unique non-negative integer Id; all other fields pass through untouched, hostile or not.
 */
export async function* streamDataset(path: string): AsyncGenerator<CommandCertificate> {
  const registry = new IdRegistry(path);
  const input = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new DatasetError(
      `${path}: cannot read dataset (${error instanceof Error ? error.message : String(error)})`,
      {
        cause: error,
      },
    );
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const rawLine of lines) {
      lineNumber++;
      const line = lineNumber === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (error) {
        throw new DatasetError(`${path} line ${lineNumber}: not valid JSON`, { cause: error });
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new DatasetError(`${path} line ${lineNumber}: not a JSON object`);
      }
      const record = parsed as Record<string, unknown>;
      registry.register(record, lineNumber);
      // Only Id is guaranteed; the rest is whatever the file says, on purpose (see the file comment).
      yield record as CommandCertificate;
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

export async function loadDataset(path: string): Promise<CommandCertificate[]> {
  const certificates: CommandCertificate[] = [];
  for await (const certificate of streamDataset(path)) certificates.push(certificate);
  return certificates;
}

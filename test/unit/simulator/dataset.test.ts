// Dataset file tests: JSONL round trips, atomic saves, tolerance of hostile certificate content, and error
// messages that name the file and line.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import type { CommandCertificate } from '#shared/keyfactor/model';
import {
  DatasetError,
  loadDataset,
  saveDataset,
  saveDatasetText,
  streamDataset,
} from '#shared/simulator/dataset';
import { generateCertificates, generateInventory } from '#shared/simulator/generator/index';
import { generateJsonLinesParallel } from '#shared/simulator/generator/parallel';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'kfsim-dataset-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Writes raw lines; the tests below need files saveDataset would refuse to produce. */
async function writeLines(name: string, lines: readonly string[]): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, lines.join('\n'), 'utf8');
  return path;
}

function certificateLike(id: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Id: id, Thumbprint: `T${id}`, ContentBytes: 'AAAA', ...extra };
}

describe('saveDataset / loadDataset', () => {
  it('round-trips a generated inventory: one JSON object per line, exactly the generated objects', async () => {
    const path = join(directory, 'dataset.jsonl');
    const options = { seed: 11, count: 40 };
    const result = await saveDataset(path, generateCertificates(options));
    expect(result.count).toBe(40);

    const text = await readFile(path, 'utf8');
    const expected = generateInventory(options);
    expect(text).toBe(expected.map((certificate) => `${JSON.stringify(certificate)}\n`).join(''));
    expect(result.bytes).toBe(Buffer.byteLength(text));
    expect(await loadDataset(path)).toEqual(expected);
  });

  it('accepts async sources and writes the same bytes as the parallel JSONL writer', async () => {
    const options = { seed: 12, count: 30 };
    async function* asyncSource(): AsyncGenerator<CommandCertificate> {
      for (const certificate of generateCertificates(options)) {
        // A real async producer yields between items; make sure the writer copes with that.
        await new Promise((resolve) => setImmediate(resolve));
        yield certificate;
      }
    }
    const fromObjects = join(directory, 'objects.jsonl');
    const fromText = join(directory, 'text.jsonl');
    await saveDataset(fromObjects, asyncSource());
    await saveDatasetText(fromText, generateJsonLinesParallel(options, { workers: 2, chunkSize: 7 }));
    expect(await readFile(fromText, 'utf8')).toBe(await readFile(fromObjects, 'utf8'));
  });

  it('replaces a dataset atomically: a failing source leaves the old file intact and no temp file behind', async () => {
    const path = join(directory, 'dataset.jsonl');
    await saveDataset(path, generateCertificates({ seed: 1, count: 5 }));
    const before = await readFile(path, 'utf8');

    function* failingSource(): Generator<CommandCertificate> {
      yield* generateCertificates({ seed: 2, count: 3 });
      throw new Error('source broke mid-stream');
    }
    await expect(saveDataset(path, failingSource())).rejects.toThrow('source broke mid-stream');
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(directory)).toEqual(['dataset.jsonl']);
  });

  it('refuses to save a duplicate Id, naming both lines, and keeps the previous file', async () => {
    const path = join(directory, 'dataset.jsonl');
    await saveDataset(path, [certificateLike(1) as CommandCertificate]);
    const duplicated = [certificateLike(4), certificateLike(5), certificateLike(4)] as CommandCertificate[];
    await expect(saveDataset(path, duplicated)).rejects.toThrow(
      new DatasetError(`${path} line 3: Id 4 appears twice (first on line 1)`),
    );
    expect((await loadDataset(path)).map((certificate) => certificate.Id)).toEqual([1]);
    expect(await readdir(directory)).toEqual(['dataset.jsonl']);
  });

  it('passes hostile certificate content through untouched: only Id is checked', async () => {
    const hostile = [
      certificateLike(7, { ContentBytes: '!!! not base64 !!!', Thumbprint: 12 }),
      { Id: 8 },
      certificateLike(9, {
        NotAfter: 'yesterday',
        SubjectAltNameElements: 'oops',
        Extra: { nested: [1, null] },
      }),
      certificateLike(10, { ContentBytes: '' }),
    ];
    const path = await writeLines(
      'hostile.jsonl',
      hostile.map((record) => JSON.stringify(record)),
    );
    expect(await loadDataset(path)).toEqual(hostile);
  });

  it('skips blank lines and tolerates CRLF line ends and a byte-order mark', async () => {
    const path = await writeLines('loose.jsonl', [
      `\uFEFF${JSON.stringify(certificateLike(1))}\r`,
      '',
      '   \t',
      `${JSON.stringify(certificateLike(2))}\r`,
      '',
    ]);
    expect((await loadDataset(path)).map((certificate) => certificate.Id)).toEqual([1, 2]);
  });

  it('streams records one at a time', async () => {
    const path = await writeLines(
      'stream.jsonl',
      [1, 2, 3].map((id) => JSON.stringify(certificateLike(id))),
    );
    const ids: number[] = [];
    for await (const certificate of streamDataset(path)) ids.push(certificate.Id);
    expect(ids).toEqual([1, 2, 3]);
  });
});

describe('loadDataset errors', () => {
  async function loadError(lines: readonly string[]): Promise<{ path: string; error: unknown }> {
    const path = await writeLines('dataset.jsonl', lines);
    try {
      await loadDataset(path);
    } catch (error) {
      return { path, error };
    }
    throw new Error('loadDataset accepted a broken dataset');
  }

  const ok = (id: number): string => JSON.stringify(certificateLike(id));

  it('names file and line for a duplicate Id, with the line it first appeared on', async () => {
    const lines = Array.from({ length: 16 }, (_, index) => ok(index + 1)).map((line, index) =>
      index === 2 ? JSON.stringify(certificateLike(5, { Note: 'first' })) : index === 4 ? ok(99) : line,
    );
    lines.push(ok(5));
    const { path, error } = await loadError(lines);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toBe(`${path} line 17: Id 5 appears twice (first on line 3)`);
  });

  it('counts blank lines when numbering, and reports invalid JSON', async () => {
    const { path, error } = await loadError([ok(1), '', ok(2), '{"Id": 3,', ok(4)]);
    expect((error as Error).message).toBe(`${path} line 4: not valid JSON`);
    expect(error).toBeInstanceOf(InputError);
  });

  it.each([
    ['[1, 2]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    ['42', 'not a JSON object'],
    ['"text"', 'not a JSON object'],
    ['{"Thumbprint": "AB"}', 'Id must be a non-negative integer, got missing'],
    ['{"Id": -1}', 'Id must be a non-negative integer, got -1'],
    ['{"Id": 1.5}', 'Id must be a non-negative integer, got 1.5'],
    ['{"Id": "5"}', 'Id must be a non-negative integer, got "5"'],
    ['{"Id": null}', 'Id must be a non-negative integer, got null'],
  ])('rejects line %s: %s', async (line, reason) => {
    const { path, error } = await loadError([ok(1), line]);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toBe(`${path} line 2: ${reason}`);
  });

  it('reports a missing file as a DatasetError naming it', async () => {
    const path = join(directory, 'absent.jsonl');
    await expect(loadDataset(path)).rejects.toThrow(DatasetError);
    await expect(loadDataset(path)).rejects.toThrow(path);
  });
});

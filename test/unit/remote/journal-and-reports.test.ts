// The export journal (what a crashed run left unsent), atomic report files, progress lines and expiry buckets.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '#shared/findings/index';
import { ExportJournal } from '#shared/remote/export-journal';
import { jsonLineFromStored, reportFileNames, writeAtomically } from '#shared/remote/local-export';
import { findingToJsonLine } from '#shared/export/index';
import { expiryBucket, progressLine, rateAndEta, terminalProgress } from '#shared/remote/progress';
import { ConfigSecretSource } from '#shared/remote/secrets';
import { inspect } from 'node:util';

const dir = () => mkdtempSync(path.join(tmpdir(), 'kfsensor-unit-'));
const msg = (n: number) => ({ type: 'export' as const, scanId: 's1', batchId: `s1.r1-9.${n}` });

describe('ExportJournal', () => {
  it('keeps what was sent and never settled across reopenings, and compacts to just that', () => {
    const file = path.join(dir(), 'export-journal.jsonl');
    const a = new ExportJournal(file);
    a.record([msg(1), msg(2), msg(3)]);
    a.settle(msg(2).batchId);
    const b = new ExportJournal(file);
    expect(b.unsettled().map((m) => m.batchId)).toEqual([msg(1).batchId, msg(3).batchId]);
    b.compact();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(new ExportJournal(file).unsettled()).toEqual([msg(1), msg(3)]);
  });

  it('ignores a torn last line (a crash mid-append) and repeated records', () => {
    const file = path.join(dir(), 'j.jsonl');
    const a = new ExportJournal(file);
    a.record([msg(1)]);
    a.record([msg(1)]);
    appendFileSync(file, '{"op":"send","scanId":"s1","batc');
    expect(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"send"')),
    ).toHaveLength(2);
    expect(new ExportJournal(file).unsettled()).toEqual([msg(1)]);
  });

  it('in memory when no file is given', () => {
    const j = new ExportJournal(null);
    j.record([msg(1)]);
    j.compact();
    expect(j.unsettled()).toEqual([msg(1)]);
  });
});

describe('jsonLineFromStored', () => {
  it('is exactly the serialized document with first_found, without serializing it again', () => {
    const at = '2026-01-02T03:04:05.000Z';
    const documents = [
      { id: 'a', crypto: { x509: { common_name: 'say "first_found" \u2028 é' } }, n: [1, 2.5, null] },
      { '10': 'integer-like keys first', b: { '2': true, a: {} } },
      {},
    ];
    for (const document of documents) {
      const text = JSON.stringify(document);
      expect(jsonLineFromStored(text, at)).toBe(
        findingToJsonLine({ ...(document as unknown as Finding), first_found: at }),
      );
    }
  });

  it('leaves documents that already carry first_found (or are not objects) to the serializer', () => {
    expect(jsonLineFromStored(JSON.stringify({ id: 'a', first_found: 'x' }), 'y')).toBeNull();
    expect(jsonLineFromStored('[1]', 'y')).toBeNull();
    expect(jsonLineFromStored('', 'y')).toBeNull();
  });
});

describe('writeAtomically', () => {
  it('replaces the file whole and leaves no temp file', async () => {
    const d = dir();
    const file = path.join(d, 'kf-findings.jsonl');
    writeFileSync(file, 'old\n');
    await writeAtomically(file, async (out) => {
      out.write('new 1\n');
      out.write('new 2\n');
      await Promise.resolve();
    });
    expect(readFileSync(file, 'utf8')).toBe('new 1\nnew 2\n');
    expect(readdirSync(d)).toEqual(['kf-findings.jsonl']);
  });

  it('a failure half-way leaves the previous file untouched and removes the temp file', async () => {
    const d = dir();
    const file = path.join(d, 'kf-findings.csv');
    writeFileSync(file, 'previous report\n');
    await expect(
      writeAtomically(file, async (out) => {
        out.write('half a rep');
        await Promise.resolve();
        throw new Error('disk trouble');
      }),
    ).rejects.toThrow('disk trouble');
    expect(readFileSync(file, 'utf8')).toBe('previous report\n');
    expect(readdirSync(d)).toEqual(['kf-findings.csv']);
  });

  it('names the reports after file_prefix', () => {
    expect(reportFileNames({ filePrefix: 'weekly' })).toEqual({
      findings: 'weekly-findings.jsonl',
      resolutions: 'weekly-resolutions.jsonl',
      csv: 'weekly-findings.csv',
      cbom: 'weekly-cbom.cdx.json',
    });
    expect(existsSync('/nonexistent')).toBe(false);
  });
});

describe('progress', () => {
  const snap = {
    state: 'RUNNING' as const,
    planned: 1000,
    fetched: 250,
    analysed: 200,
    exported: 100,
    elapsedMs: 5000,
  };

  it('rate and ETA from what was fetched', () => {
    expect(rateAndEta(snap)).toEqual({ perSecond: 50, etaSeconds: 15 });
    expect(rateAndEta({ ...snap, fetched: 0 })).toEqual({ perSecond: null, etaSeconds: null });
    expect(progressLine(snap)).toBe(
      'running · fetched 250/1000 · analysed 200 · exported 100 · 50 certs/s · ETA 15s',
    );
  });

  it('the terminal line is rewritten at most once per 200 ms', () => {
    let t = 0;
    const written: string[] = [];
    const stream = { columns: 200, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const p = terminalProgress(stream, { now: () => t });
    for (t = 0; t < 1000; t += 50) p.update(snap);
    expect(written).toHaveLength(5);
    expect(written[0]?.startsWith('\r\x1b[2Krunning · fetched 250')).toBe(true);
    p.finish();
    expect(written.at(-1)).toBe('\r\x1b[2K');
    // A late poll after finish() draws nothing over the summary.
    t += 10_000;
    p.update(snap);
    expect(written.at(-1)).toBe('\r\x1b[2K');
  });

  it('expiry buckets: expired, under 30 days, under 90 days, later', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const at = (iso: string | undefined) =>
      ({ crypto: { x509: { not_after: iso, keyfactor: null } } }) as unknown as Finding;
    expect(expiryBucket(at('2026-05-31T23:59:59Z'), now)).toBe('expired');
    expect(expiryBucket(at('2026-06-20T00:00:00Z'), now)).toBe('<30d');
    expect(expiryBucket(at('2026-08-01T00:00:00Z'), now)).toBe('<90d');
    expect(expiryBucket(at('2027-01-01T00:00:00Z'), now)).toBe('later');
    expect(expiryBucket(at(undefined), now)).toBe('unknown');
  });
});

describe('ConfigSecretSource', () => {
  it('hands back copies, names no secret when a reference is unknown, and never prints its content', async () => {
    const s = new ConfigSecretSource('ingest-token');
    const ref = await s.putCredentials('scan-1', { username: 'u', password: 'p4ss' });
    const got = await s.getCredentials(ref);
    got.password = 'changed';
    expect((await s.getCredentials(ref)).password).toBe('p4ss');
    expect(await s.getIngestionToken()).toBe('ingest-token');
    await expect(s.getCredentials('process:other')).rejects.toThrow(/no credentials under process:other/);
    expect(inspect(s)).not.toContain('p4ss');
    expect(JSON.stringify({ s })).not.toContain('p4ss');
    await expect(new ConfigSecretSource(null).getIngestionToken()).rejects.toThrow(/export plugin/);
  });
});

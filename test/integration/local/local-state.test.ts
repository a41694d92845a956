// What only the SQLite local state has: the file on disk. Reopening keeps everything; a SIGKILLed writer leaves a
// consistent store whose WAL is recovered; a second opener (same or other process) fails clearly; damaged, foreign
// and newer-schema files fail clearly and are left untouched; the state directory's location and permissions.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  LocalStateClosedError,
  LocalStateCorruptError,
  LocalStateLockedError,
  LocalStateVersionError,
  SCHEMA_VERSION,
  openLocalState,
} from '#shared/adapters/local/scan-stores';
import type { LocalState } from '#shared/adapters/local/scan-stores';
import {
  STATE_FILE_NAME,
  StateDirError,
  defaultStateDir,
  ensureStateDir,
  stateFilePath,
} from '#shared/adapters/local/state-dir';
import { TestClock, exportBatch, findingInputs, scanRecord } from '#test/support/scan-store-contract';
import type { SensorCursor } from '#shared/scan/model';
import { InputError } from '#shared/errors';

const writer = path.resolve(import.meta.dirname, 'fixtures/state-writer.ts');
const opened: LocalState[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

const dirs: string[] = [];

afterEach(async () => {
  for (const state of opened.splice(0)) state.close();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kfsensor-state-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, options: Parameters<typeof openLocalState>[1] = {}): LocalState {
  const state = openLocalState(dir, options);
  opened.push(state);
  return state;
}

async function collect<T>(iterable: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of iterable) out.push(...chunk);
  return out;
}

function cursor(sensorKey: string, maxCertId: number): SensorCursor {
  return {
    sensorKey,
    url: 'https://command.example.com/KeyfactorAPI',
    queryFilter: null,
    maxCertId,
    lastScanStartedAt: '2026-03-01T12:00:00.000Z',
    scansSinceFull: 1,
    lastFullScanId: 'scan-1',
    lastScanId: 'scan-1',
    version: 0,
  };
}

/** Starts the writer fixture; resolves with the child and a function returning every stdout line so far. */
function startWriter(
  mode: 'write' | 'hold',
  dir: string,
): { child: ChildProcessWithoutNullStreams; lines: () => string[]; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, mode, dir], { env: { ...process.env } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { child, lines: () => out.split('\n').filter((l) => l !== ''), stderr: () => err };
}

async function waitFor(
  condition: () => boolean,
  what: string,
  stderr: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; child stderr: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function exited(child: ChildProcessWithoutNullStreams): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
    else child.on('exit', (_code, signal) => resolve(signal));
  });
}

describe('SQLite local state', () => {
  it('creates the state file in WAL mode at the current schema version, in a 0700 directory', () => {
    const dir = path.join(tempDir(), 'nested', 'state');
    const state = open(dir);
    expect(state.stateDir).toBe(dir);
    expect(state.file).toBe(path.join(dir, STATE_FILE_NAME));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(state.file).mode & 0o777).toBe(0o600);
    expect(state.settings()).toEqual({
      journalMode: 'wal',
      synchronous: 2, // FULL: a committed cursor survives a power loss
      lockingMode: 'exclusive',
      foreignKeys: true,
      busyTimeoutMs: 5000,
      pageSize: 16_384,
      schemaVersion: SCHEMA_VERSION,
    });
    state.close();
    const raw = new Database(state.file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.pragma('page_size', { simple: true })).toBe(16_384);
      const indexes = raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'findings_unseen'").get() as {
        sql: string;
      };
      expect(indexes.sql).toMatch(/\(sensor_key, status, last_seen_scan_id\)/);
    } finally {
      raw.close();
    }
  });

  it('keeps scans, task completions, cursors, findings, outbox batches and schedules across close and reopen', async () => {
    const dir = tempDir();
    const clock = new TestClock();
    const first = open(dir, { clock });
    const scan = scanRecord({ counts: { ...scanRecord().counts, pagesPlanned: 2 } });
    await first.scans.createScan(scan);
    await first.scans.completeTask(scan.scanId, 'r1-10', {
      status: 'done',
      fetched: 10,
      analysed: 10,
      rejected: 0,
      changed: 4,
      exportBatches: 1,
    });
    await first.scans.addError(scan.scanId, {
      where: 'page:r11-20',
      message: 'boom',
      at: '2026-03-01T12:01:00.000Z',
    });
    expect(await first.scans.putCursor(cursor(scan.sensorKey, 42), 0)).toBe(true);
    const inputs = findingInputs(scan.sensorKey, 0, 120);
    await first.findings.upsertFindings(scan.sensorKey, scan.scanId, '2026-03-01T12:02:00.000Z', inputs);
    await first.findings.upsertFindings(
      scan.sensorKey,
      'scan-2',
      '2026-03-01T12:03:00.000Z',
      inputs.slice(0, 100),
    );
    const resolved = await collect(
      first.findings.resolveUnseen(scan.sensorKey, 'scan-2', '2026-03-01T12:04:00.000Z'),
    );
    expect(resolved).toHaveLength(20);
    const batch = exportBatch({ scanId: scan.scanId });
    await first.outbox.putBatch(batch);
    await first.outbox.markAttempt(batch.batchId, 'HTTP 503', false);
    await first.schedules.putSchedule({
      scheduleId: 'nightly',
      name: 'nightly',
      expression: 'cron(0 2 * * ? *)',
      timezone: 'UTC',
      sensor: scan.sensor,
      enabled: true,
      createdAt: '2026-03-01T12:00:00.000Z',
      createdBy: 'cli',
    });
    const before = {
      scan: await first.scans.getScan(scan.scanId),
      cursor: await first.scans.getCursor(scan.sensorKey),
      findings: await collect(first.findings.listFindings(scan.sensorKey)),
      batch: await first.outbox.getBatch(batch.batchId),
      schedules: await first.schedules.listSchedules(),
    };
    first.close();
    await expect(first.scans.getScan(scan.scanId)).rejects.toBeInstanceOf(LocalStateClosedError);

    const second = open(dir, { clock });
    expect({
      scan: await second.scans.getScan(scan.scanId),
      cursor: await second.scans.getCursor(scan.sensorKey),
      findings: await collect(second.findings.listFindings(scan.sensorKey)),
      batch: await second.outbox.getBatch(batch.batchId),
      schedules: await second.schedules.listSchedules(),
    }).toEqual(before);
    expect(before.findings).toHaveLength(120);
    expect(before.findings.filter((f) => f.status === 'resolved')).toHaveLength(20);
    expect(before.findings[0]!.document).toEqual(
      inputs.find((i) => i.findingId === before.findings[0]!.findingId)!.document,
    );
    expect(before.batch?.attempts).toBe(1);
    // Exactly-once and versioning survive the reopen: the redelivery counts nothing, a stale cursor writer loses.
    const redelivery = await second.scans.completeTask(scan.scanId, 'r1-10', {
      status: 'done',
      fetched: 10,
      analysed: 10,
      rejected: 0,
      changed: 4,
      exportBatches: 1,
    });
    expect(redelivery.applied).toBe(false);
    expect(redelivery.scan.counts.pagesDone).toBe(1);
    expect(await second.scans.putCursor(cursor(scan.sensorKey, 50), 0)).toBe(false);
    expect(await second.scans.putCursor(cursor(scan.sensorKey, 50), 1)).toBe(true);
    const last = await second.scans.completeTask(scan.scanId, 'r11-20', {
      status: 'failed',
      fetched: 10,
      analysed: 0,
      rejected: 0,
      changed: 0,
      exportBatches: 0,
    });
    expect(last).toMatchObject({ applied: true, lastTask: true });
    expect(last.scan.counts).toMatchObject({
      pagesDone: 1,
      pagesFailed: 1,
      fetchedCertificates: 10,
      failedCertificates: 10,
    });
  });

  it('prunes at open what DynamoDB TTL would: expired terminal scans and their tasks, old sent batches', async () => {
    const dir = tempDir();
    const clock = new TestClock();
    const first = open(dir, { clock });
    const day = 86_400;
    const nowSeconds = Math.floor(clock.now().getTime() / 1000);
    const expired = scanRecord({ state: 'COMPLETED', expiresAt: nowSeconds + day });
    const running = scanRecord({ state: 'RUNNING', expiresAt: nowSeconds + day });
    const kept = scanRecord({ state: 'COMPLETED', expiresAt: nowSeconds + 100 * day });
    for (const scan of [expired, running, kept]) {
      await first.scans.createScan(scan);
      await first.scans.completeTask(scan.scanId, 'r1-10', {
        status: 'done',
        fetched: 1,
        analysed: 1,
        rejected: 0,
        changed: 0,
        exportBatches: 0,
      });
    }
    const sent = exportBatch();
    const pending = exportBatch();
    const failed = exportBatch();
    for (const batch of [sent, pending, failed]) await first.outbox.putBatch(batch);
    await first.outbox.markSent(sent.batchId, clock.now().toISOString());
    await first.outbox.markAttempt(failed.batchId, 'HTTP 400', true);
    expect(first.prune()).toEqual({ scans: 0, tasks: 0, batches: 0 });
    first.close();

    clock.advance(20 * day);
    const second = open(dir, { clock });
    expect(await second.scans.getScan(expired.scanId)).toBeNull();
    // A scan still running is never pruned, and a pending or failed batch is kept for a redrive.
    expect(await second.scans.getScan(running.scanId)).not.toBeNull();
    expect(await second.scans.getScan(kept.scanId)).not.toBeNull();
    expect(await second.outbox.getBatch(sent.batchId)).toBeNull();
    expect((await second.outbox.getBatch(pending.batchId))?.status).toBe('pending');
    expect((await second.outbox.getBatch(failed.batchId))?.status).toBe('failed');
    second.close();

    clock.advance(100 * day);
    const third = open(dir, { clock, taskRetentionDays: 90 });
    expect(await third.scans.getScan(kept.scanId)).toBeNull();
    // The running scan's task record expired (90 days): a redelivery now would count again, as on DynamoDB.
    const redelivery = await third.scans.completeTask(running.scanId, 'r1-10', {
      status: 'done',
      fetched: 1,
      analysed: 1,
      rejected: 0,
      changed: 0,
      exportBatches: 0,
    });
    expect(redelivery.applied).toBe(true);
    expect(() => open(tempDir(), { outboxRetentionDays: 0 })).toThrow(InputError);
  });

  it('frees leases at reopen: only one process holds the file, so its leases belong to a run that is gone', async () => {
    const dir = tempDir();
    const first = open(dir);
    expect(await first.leases.acquire('command.example.com', 1, 3600)).not.toBeNull();
    expect(await first.leases.acquire('command.example.com', 1, 3600)).toBeNull();
    first.close();
    const second = open(dir);
    expect(await second.leases.acquire('command.example.com', 1, 3600)).not.toBeNull();
  });

  it('survives a writer SIGKILLed mid-run: the WAL is recovered, every committed step is intact, counts match the tasks', async () => {
    const dir = tempDir();
    const file = stateFilePath(dir);
    const run = startWriter('write', dir);
    // Killed while writing, after enough steps that several are committed (a few hundred pages: still all in the WAL).
    await waitFor(() => run.lines().length >= 30, '30 committed steps', run.stderr);
    run.child.kill('SIGKILL');
    expect(await exited(run.child)).toBe('SIGKILL');
    const committed = run.lines().map((line) => Number(/^committed (\d+)$/.exec(line)![1]));
    const lastReported = committed.at(-1)!;
    expect(committed).toEqual(Array.from({ length: committed.length }, (_, i) => i));

    // The killed process left its WAL: the committed steps are there, not (all) in the main file yet.
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    const mainOnly = path.join(tempDir(), 'main-only.sqlite');
    copyFileSync(file, mainOnly);
    const fromMainFile = (() => {
      const raw = new Database(mainOnly, { readonly: true });
      try {
        return (
          (
            raw.prepare("SELECT version FROM cursors WHERE sensor_key = 'sk-crash'").get() as
              { version: number } | undefined
          )?.version ?? 0
        );
      } catch {
        return 0; // the tables themselves were still only in the WAL
      } finally {
        raw.close();
      }
    })();

    const state = open(dir);
    const recovered = await state.scans.getCursor('sk-crash');
    // Step i writes version i + 1; the kill can land after step lastReported + 1 committed but before it printed.
    expect(recovered?.version).toBeGreaterThanOrEqual(lastReported + 1);
    expect(recovered?.version).toBeLessThanOrEqual(lastReported + 2);
    expect(recovered?.maxCertId).toBe(recovered!.version - 1);
    expect(fromMainFile).toBeLessThan(recovered!.version);

    for (let i = 0; i <= lastReported + 1; i++) {
      const findings = await collect(state.findings.listFindings(`sk-step-${i}`));
      // One transaction per upsert call: all three or (only for an unreported step) none.
      if (i > lastReported && findings.length === 0) continue;
      expect(findings, `step ${i}`).toHaveLength(3);
      for (const finding of findings) {
        expect(finding.document.id).toBe(finding.findingId);
        expect(finding.lastSeenScanId).toBe('crash-scan');
      }
    }
    expect(await collect(state.findings.listFindings(`sk-step-${lastReported + 3}`))).toEqual([]);
    const scan = await state.scans.getScan('crash-scan');
    state.close();

    const raw = new Database(stateFilePath(dir), { readonly: true });
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(raw.pragma('foreign_key_check')).toEqual([]);
      const tasks = raw.prepare("SELECT task_id FROM tasks WHERE scan_id = 'crash-scan'").all() as {
        task_id: string;
      }[];
      const taskIds = new Set(tasks.map((t) => t.task_id));
      for (let i = 0; i <= lastReported; i++) expect(taskIds.has(`t${i}`), `task t${i}`).toBe(true);
      // Counters and task rows were written in one transaction: they agree whatever the kill interrupted.
      expect(scan?.counts.pagesDone).toBe(tasks.length);
      expect(scan?.counts.fetchedCertificates).toBe(3 * tasks.length);
      expect(scan?.counts.changedFindings).toBe(3 * tasks.length);
    } finally {
      raw.close();
    }
  });

  it('refuses a second opener in the same process with a clear error, and opens once the first closes', () => {
    const dir = tempDir();
    const first = open(dir);
    const started = Date.now();
    expect(() => open(dir, { lockTimeoutMs: 100 })).toThrow(LocalStateLockedError);
    expect(() => open(dir, { lockTimeoutMs: 100 })).toThrow(`another scan is using ${dir}`);
    // Loose bound: it waited about lockTimeoutMs, not the default or forever.
    expect(Date.now() - started).toBeLessThan(10_000);
    first.close();
    expect(() => open(dir, { lockTimeoutMs: 100 })).not.toThrow();
  });

  it('refuses a second opener while another process holds the state, and opens once that process is killed', async () => {
    const dir = tempDir();
    const holder = startWriter('hold', dir);
    await waitFor(() => holder.lines().includes('ready'), 'the holder to open the state', holder.stderr);
    expect(() => open(dir, { lockTimeoutMs: 100 })).toThrow(`another scan is using ${dir}`);
    const other = startWriter('hold', dir);
    expect(await exited(other.child)).toBeNull();
    expect(other.child.exitCode).not.toBe(0);
    expect(other.stderr()).toContain(`another scan is using ${dir}`);
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    // The OS released the dead holder's lock: no stale lock file to clean up by hand.
    const state = open(dir, { lockTimeoutMs: 5000 });
    expect(await state.scans.getCursor('none')).toBeNull();
  });

  it('refuses a file that is not SQLite, naming it and saying to move it aside, and leaves it untouched', () => {
    const dir = tempDir();
    const file = stateFilePath(dir);
    writeFileSync(file, 'certificates:\n  - not a database\n'.repeat(200));
    const content = readFileSync(file);
    expect(() => open(dir)).toThrow(LocalStateCorruptError);
    expect(() => open(dir)).toThrow(
      new RegExp(`state file ${escape(file)} is damaged or is not a kfsensor state database.*move it aside`),
    );
    expect(readFileSync(file)).toEqual(content);
  });

  it('stores documents as plain JSON and still reads the gzipped rows earlier versions wrote', async () => {
    const dir = tempDir();
    const sensorKey = 'sk-formats';
    const inputs = findingInputs(sensorKey, 0, 4);
    const state = open(dir);
    await state.findings.upsertFindings(sensorKey, 'scan-1', '2026-03-01T12:00:00.000Z', inputs);
    state.close();
    const raw = new Database(stateFilePath(dir));
    const rows = raw.prepare('SELECT finding_id, document FROM findings ORDER BY finding_id').all() as {
      finding_id: string;
      document: Buffer;
    }[];
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.document.toString('utf8').startsWith('{')).toBe(true);
    // Two rows rewritten as an earlier version stored them: gzip of the same JSON.
    const update = raw.prepare('UPDATE findings SET document = ? WHERE finding_id = ?');
    for (const row of rows.slice(0, 2)) update.run(gzipSync(row.document), row.finding_id);
    raw.close();
    const reopened = open(dir);
    const listed = (await collect(reopened.findings.listFindings(sensorKey))).sort((a, b) =>
      a.findingId.localeCompare(b.findingId),
    );
    const expected = [...inputs].sort((a, b) => a.findingId.localeCompare(b.findingId));
    expect(listed.map((f) => f.document)).toEqual(expected.map((i) => i.document));
    expect((await reopened.findings.getFinding(sensorKey, rows[0]!.finding_id))?.document).toEqual(
      expected[0]!.document,
    );
  });

  it('refuses a damaged state file at open (quick_check), and mid-run when the check is skipped', async () => {
    const dir = tempDir();
    const file = stateFilePath(dir);
    const state = open(dir);
    const sensorKey = 'sk-damaged';
    await state.findings.upsertFindings(
      sensorKey,
      'scan-1',
      '2026-03-01T12:00:00.000Z',
      findingInputs(sensorKey, 0, 200),
    );
    state.close();
    // Garbage over the middle pages (not the header): the file still opens as SQLite, its b-trees are broken.
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(16 * 4096, 0x5a), 0, 16 * 4096, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    expect(() => open(dir)).toThrow(LocalStateCorruptError);
    expect(() => open(dir)).toThrow(file);
    const unchecked = open(dir, { checkOnOpen: false });
    await expect(collect(unchecked.findings.listFindings(sensorKey))).rejects.toThrow(LocalStateCorruptError);
  });

  it('refuses another program’s SQLite database instead of writing into it', () => {
    const dir = tempDir();
    const raw = new Database(stateFilePath(dir));
    raw.exec('CREATE TABLE contacts (name TEXT)');
    raw.close();
    expect(() => open(dir)).toThrow(/is an SQLite database but not a kfsensor state file; move it aside/);
    const again = new Database(stateFilePath(dir), { readonly: true });
    expect(again.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([
      { name: 'contacts' },
    ]);
    again.close();
  });

  it('refuses a state file from a newer schema version with a clear error', () => {
    const dir = tempDir();
    open(dir).close();
    const raw = new Database(stateFilePath(dir));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => open(dir)).toThrow(LocalStateVersionError);
    expect(() => open(dir)).toThrow(`written by a newer kfsensor (schema version ${SCHEMA_VERSION + 1}`);
  });

  it('initialises an empty (0-byte) state file, and names the file when it cannot be opened at all', async () => {
    const dir = tempDir();
    writeFileSync(stateFilePath(dir), '');
    const state = open(dir);
    expect(state.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(await state.scans.getCursor('none')).toBeNull();
    state.close();
    const other = tempDir();
    mkdirSync(stateFilePath(other));
    expect(() => open(other)).toThrow(`cannot open or write the state file ${stateFilePath(other)}`);
  });

  it('refuses a state directory path that is a file', () => {
    const file = path.join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    expect(() => open(file)).toThrow(StateDirError);
    expect(() => ensureStateDir(file)).toThrow(`cannot create the state directory ${file}`);
  });
});

describe('default state directory', () => {
  const home = '/home/ops';
  it('prefers $KFSENSOR_STATE_DIR on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const)
      expect(defaultStateDir({ env: { KFSENSOR_STATE_DIR: '/srv/kfsensor' }, platform, home })).toBe(
        path.resolve('/srv/kfsensor'),
      );
  });
  it('uses $XDG_DATA_HOME when absolute, else ~/.local/share, on Linux', () => {
    expect(defaultStateDir({ env: { XDG_DATA_HOME: '/data' }, platform: 'linux', home })).toBe(
      '/data/keyfactor-command-sensor',
    );
    expect(defaultStateDir({ env: { XDG_DATA_HOME: 'relative' }, platform: 'linux', home })).toBe(
      '/home/ops/.local/share/keyfactor-command-sensor',
    );
    expect(defaultStateDir({ env: {}, platform: 'linux', home })).toBe(
      '/home/ops/.local/share/keyfactor-command-sensor',
    );
  });
  it('uses ~/Library/Application Support on macOS and %LOCALAPPDATA% on Windows', () => {
    expect(defaultStateDir({ env: { XDG_DATA_HOME: '/data' }, platform: 'darwin', home: '/Users/ops' })).toBe(
      '/Users/ops/Library/Application Support/keyfactor-command-sensor',
    );
    expect(
      defaultStateDir({
        env: { LOCALAPPDATA: 'C:\\Users\\ops\\AppData\\Local' },
        platform: 'win32',
        home: 'C:\\Users\\ops',
      }),
    ).toBe('C:\\Users\\ops\\AppData\\Local\\keyfactor-command-sensor');
    expect(defaultStateDir({ env: {}, platform: 'win32', home: 'C:\\Users\\ops' })).toBe(
      'C:\\Users\\ops\\AppData\\Local\\keyfactor-command-sensor',
    );
  });
  it('leaves an existing directory’s permissions as the operator set them', () => {
    const dir = path.join(tempDir(), 'shared');
    mkdirSync(dir, { mode: 0o750 });
    ensureStateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o750 & ~process.umask());
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

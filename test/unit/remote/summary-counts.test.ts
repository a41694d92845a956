// The end-of-scan summary counted from the SQLite state's summary column (an index-only GROUP BY) equals the summary
// of the documents themselves, including rows written before the column existed (schema 1) and rows without facts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, openLocalState, type LocalState } from '#shared/adapters/local/scan-stores';
import { stateFilePath } from '#shared/adapters/local/state-dir';
import {
  addSummaryFacts,
  emptyRemoteSummary,
  summarizeRemote,
  summaryFacts,
  type RemoteSummary,
} from '#shared/remote/progress';
import { findingInputs } from '#test/support/scan-store-contract';

const NOW = new Date('2026-03-15T00:00:00Z');
const KEY = 'sk-summary';
const opened: LocalState[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function open(dir: string): LocalState {
  const state = openLocalState(dir, { summaryOf: summaryFacts });
  opened.push(state);
  return state;
}

async function counted(state: LocalState): Promise<RemoteSummary> {
  const summary = emptyRemoteSummary();
  addSummaryFacts(summary, await state.findings.summaries(KEY), NOW);
  return summary;
}

describe('summary counted from the state', () => {
  it('equals the summary of the open documents, after resolutions, NULL facts and a schema 1 file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsensor-summary-'));
    const inputs = findingInputs(KEY, 0, 60);
    const state = open(dir);
    await state.findings.upsertFindings(KEY, 'scan-1', '2026-03-01T00:00:00.000Z', inputs);
    // A second scan sees all but ten: those ten are resolved and leave the summary.
    await state.findings.upsertFindings(KEY, 'scan-2', '2026-03-02T00:00:00.000Z', inputs.slice(10));
    for await (const chunk of state.findings.resolveUnseen(KEY, 'scan-2', '2026-03-02T00:00:00.000Z'))
      void chunk;
    const expected = summarizeRemote(
      inputs.slice(10).map((i) => i.document),
      NOW,
    );
    expect(expected.findings.total).toBe(50);
    expect(await counted(state)).toEqual(expected);
    state.close();
    opened.length = 0;

    // The file as schema 1 left it: no summary column, no index (the migration adds both; the rows get their facts
    // when the summary first reads them).
    const raw = new Database(stateFilePath(dir));
    raw.exec('DROP INDEX findings_summary; ALTER TABLE findings DROP COLUMN summary');
    raw.pragma('user_version = 1');
    raw.close();
    const migrated = open(dir);
    expect(migrated.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(await counted(migrated)).toEqual(expected);
    migrated.close();
    opened.length = 0;
    const check = new Database(stateFilePath(dir), { readonly: true });
    expect(
      (
        check
          .prepare("SELECT count(*) AS n FROM findings WHERE status = 'open' AND summary IS NULL")
          .get() as { n: number }
      ).n,
    ).toBe(0);
    check.close();
  });

  it('needs the projection to count', async () => {
    const state = openLocalState(mkdtempSync(path.join(tmpdir(), 'kfsensor-summary-')));
    opened.push(state);
    await expect(state.findings.summaries(KEY)).rejects.toThrow(/summaryOf/);
  });
});

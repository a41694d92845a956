// The scan store contract against the SQLite adapter the CLI uses: a fresh state directory (and file) per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openLocalState } from '#shared/adapters/local/scan-stores';
import type { LocalState } from '#shared/adapters/local/scan-stores';
import { describeScanStoreContract } from '#test/support/scan-store-contract';

const open: LocalState[] = [];
afterEach(() => {
  for (const state of open.splice(0)) {
    state.close();
    rmSync(state.stateDir, { recursive: true, force: true });
  }
});

describeScanStoreContract('SQLite (local state)', (clock) => {
  const state = openLocalState(mkdtempSync(path.join(tmpdir(), 'kfsensor-contract-')), { clock });
  open.push(state);
  return state;
});

// The remote CLI's stores: the embedded SQLite state (shared/adapters/local) in the state directory, opened through
// one factory so tests and the run share the same switch.
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import type {
  Clock,
  ExportOutbox,
  FindingStore,
  HostLeases,
  ScanStore,
  ScheduleStore,
} from '#shared/scan/ports';

export interface RemoteState {
  scans: ScanStore;
  findings: FindingStore;
  outbox: ExportOutbox;
  schedules: ScheduleStore;
  leases: HostLeases;
  /** Where the state lives ('memory' when nothing survives the process). */
  location: string;
  close(): void | Promise<void>;
}

export type OpenState = (stateDir: string, clock: Clock) => Promise<RemoteState>;

/** Memory stores: for tests that do not need state across processes. */
export const openMemoryState: OpenState = async (_stateDir, clock) => {
  await Promise.resolve();
  return { ...createMemoryScanStores(clock), location: 'memory', close() {} };
};

interface LocalModule {
  openLocalState(
    file: string,
    options: { clock: Clock },
  ): Omit<RemoteState, 'location' | 'close'> & { close(): void | Promise<void> };
}

/** The SQLite state file in `stateDir` (created with the directory when missing). */
export const openLocalFileState: OpenState = async (stateDir, clock) => {
  const { ensureStateDir, stateFilePath } = await import('#shared/adapters/local/state-dir');
  const dir = ensureStateDir(stateDir);
  const file = stateFilePath(dir);
  // The SQLite adapter is being written alongside (issue 6); loaded by name so this module builds before it lands.
  const specifier = '#shared/adapters/local/scan-stores';
  let local: LocalModule;
  try {
    local = (await import(specifier)) as LocalModule;
  } catch (error) {
    throw new Error(`the embedded state store is not available: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const state = local.openLocalState(file, { clock });
  return { ...state, location: file, close: () => state.close() };
};

// The remote CLI's stores: the embedded SQLite state (shared/adapters/local) in the state directory, opened through
// one factory so tests and the run share the same switch.
import { openLocalState } from '#shared/adapters/local/scan-stores';
import { MemoryHostLeases, createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import { summaryFacts } from './progress';
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

/** The SQLite state file in `stateDir` (created with the directory when missing; locked for the whole run). */
export const openLocalFileState: OpenState = async (stateDir, clock) => {
  await Promise.resolve();
  // The summary's facts are kept per finding, so the end-of-scan summary is counted from an index.
  const state = openLocalState(stateDir, { clock, summaryOf: summaryFacts });
  return {
    scans: state.scans,
    findings: state.findings,
    outbox: state.outbox,
    schedules: state.schedules,
    // Host leases in memory: the run holds the state file's lock and open deletes leases left in it, so a lease
    // never outlives this process; the file's leases cost two fsynced transactions per Command request.
    leases: new MemoryHostLeases(clock),
    location: state.file,
    close: () => state.close(),
  };
};

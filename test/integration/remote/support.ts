// Shared pieces of the remote-scan tests: a simulator with Basic users, an ingestion receiver, configs as YAML text,
// and a state that survives between runs of one test.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryScanStores } from '#shared/adapters/memory/scan-stores';
import { loadConfig, type RemoteScanConfig } from '#shared/config/index';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { silentLogger, type Logger } from '#shared/logging';
import { runRemoteScan, type RemoteScanOutcome, type RunRemoteScanOptions } from '#shared/remote/run';
import type { OpenState, RemoteState } from '#shared/remote/state';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import type { Clock } from '#shared/scan/index';

export const USER = { username: 'alice', password: 'correct horse', domain: 'CORP' };
export const SENSOR_TOKEN = 'remote-sensor-token-123';
export const BIN = path.resolve(import.meta.dirname, '../../../bin/kfsensor.js');

export function tempDir(prefix = 'kfsensor-remote-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** One memory state shared by several runs (as the state directory is between processes). */
export function sharedMemoryState(): { open: OpenState; state: () => RemoteState | null } {
  let state: RemoteState | null = null;
  return {
    open: async (_dir: string, clock: Clock) => {
      await Promise.resolve();
      state ??= { ...createMemoryScanStores(clock), location: 'memory', close() {} };
      return state;
    },
    state: () => state,
  };
}

export interface Services {
  sim: RunningSimulator;
  receiver: IngestionReceiver;
  close(): Promise<void>;
}

export async function startServices(certificates: readonly CommandCertificate[]): Promise<Services> {
  const sim = await startSimulator({
    certificates,
    auth: { basic: [USER] },
    prewarm: false,
  });
  const receiver = await startIngestionReceiver({ token: SENSOR_TOKEN });
  return {
    sim,
    receiver,
    close: async () => {
      await Promise.all([sim.close(), receiver.stop()]);
    },
  };
}

export interface BasicConfigOptions {
  commandUrl: string;
  ingestionUrl?: string;
  outputDir?: string;
  password?: string;
  pageSize?: number;
  concurrency?: number;
  formats?: string[];
  filePrefix?: string;
  queryFilter?: string;
  plugins?: string[];
}

/** A Basic-auth config as YAML text, secrets through ${env:...} as an operator would write it. */
export function basicConfigYaml(o: BasicConfigOptions): string {
  const plugins = o.plugins ?? [
    'keyfactor',
    ...(o.ingestionUrl ? ['export'] : []),
    ...(o.outputDir ? ['local_export'] : []),
  ];
  return `
x-local: &local
  output_dir: ${JSON.stringify(o.outputDir ?? './out')}
  formats: [${(o.formats ?? ['jsonl', 'csv', 'cbom']).join(', ')}]
  file_prefix: ${o.filePrefix ?? 'kf'}
scan_config:
  plugins: [${plugins.join(', ')}]
  config:
    keyfactor:
      name: keyfactor
      plugin_config:
        url: ${JSON.stringify(o.commandUrl)}
        username: 'CORP\\alice'
        password: "\${env:COMMAND_PASSWORD}"
        page_size: ${o.pageSize ?? 100}
        concurrency: ${o.concurrency ?? 4}
${o.queryFilter ? `        query_filter: ${JSON.stringify(o.queryFilter)}\n` : ''}    local_export:
      name: local_export
      plugin_config:
        <<: *local
    export:
      name: export
      plugin_config:
        sensor_name: "Remote Test Scan"
        sensor_type: "Keyfactor Command"
        ran_by: "tester"
        url: ${JSON.stringify(o.ingestionUrl ?? 'http://127.0.0.1:9/v1/batches')}
        token: "\${env:SENSOR_TOKEN}"
        labels:
          - scan: remote
`;
}

export function basicEnv(password = USER.password): Record<string, string> {
  return { COMMAND_PASSWORD: password, SENSOR_TOKEN, USER: 'tester' };
}

export function loadText(text: string, env: Record<string, string>): RemoteScanConfig {
  return loadConfig({ text, fileName: 'test.yml' }, { env });
}

export async function runOnce(
  config: RemoteScanConfig,
  options: Partial<RunRemoteScanOptions> & { openState: OpenState },
  logger: Logger = silentLogger,
): Promise<RemoteScanOutcome> {
  return runRemoteScan(config, {
    stateDir: '/nonexistent-memory-state',
    logger,
    commandClient: { retry: { maxAttempts: 2, baseDelayMs: 2, maxDelayMs: 10 }, timeoutMs: 10_000 },
    retryDelayMs: () => 5,
    ...options,
  });
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs the real CLI as a child process. */
export function runCli(
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void;
    timeoutMs?: number;
    /** Node options before the script (e.g. --import of a test preload). */
    nodeArgs?: string[];
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...options.env },
      cwd: options.cwd ?? process.cwd(),
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      options.onStderr?.(err, (s) => child.kill(s));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

export interface StartedCli {
  child: ChildProcessWithoutNullStreams;
  done: Promise<CliRun>;
  stderr(): string;
}

/** Starts the real CLI and hands back the process, for tests that signal it mid-scan. */
export function startCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): StartedCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...options.env },
    cwd: options.cwd ?? process.cwd(),
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
  return { child, done, stderr: () => err };
}

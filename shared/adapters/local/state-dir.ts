// Where the CLI keeps its state (cursors, findings, resolutions, outbox): one directory per user, private to them.
import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { SensorError } from '#shared/errors';

/** The directory name under the platform's per-user data directory. */
export const STATE_DIR_NAME = 'keyfactor-command-sensor';
/** The SQLite database inside the state directory. */
export const STATE_FILE_NAME = 'state.sqlite';

/** The state directory cannot be created or used. */
export class StateDirError extends SensorError {}

export interface StateDirEnvironment {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/**
 * $KFSENSOR_STATE_DIR, else the platform's per-user data directory: $XDG_DATA_HOME (Linux and other Unixes, only
 * when absolute, as the XDG spec requires) or ~/.local/share, %LOCALAPPDATA% on Windows, ~/Library/Application
 * Support on macOS. Pure: the environment is a parameter so every platform's rule can be tested anywhere.
 */
export function defaultStateDir(options: StateDirEnvironment = {}): string {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const home = options.home ?? homedir();
  const explicit = env.KFSENSOR_STATE_DIR;
  if (explicit) return path.resolve(explicit);
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA;
    return path.win32.join(
      local && path.win32.isAbsolute(local) ? local : path.win32.join(home, 'AppData', 'Local'),
      STATE_DIR_NAME,
    );
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', STATE_DIR_NAME);
  const xdg = env.XDG_DATA_HOME;
  return path.posix.join(
    xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.local', 'share'),
    STATE_DIR_NAME,
  );
}

/** The database file of a state directory. */
export function stateFilePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE_NAME);
}

/**
 * Creates the directory (and missing parents) with mode 0700 so other local users cannot read findings; an existing
 * directory is used as it is (the operator chose its permissions). Fails clearly when the path is a file.
 */
export function ensureStateDir(stateDir: string): string {
  const dir = path.resolve(stateDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StateDirError(
      `cannot create the state directory ${dir}: ${(err as Error).message} (choose another with --state-dir)`,
      { cause: err },
    );
  }
  if (!statSync(dir).isDirectory())
    throw new StateDirError(
      `the state directory ${dir} is not a directory (choose another with --state-dir)`,
    );
  return dir;
}

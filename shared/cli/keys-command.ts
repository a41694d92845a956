// `kfsensor keys`: create and list API keys in a local state directory (the token is printed once, to stdout).
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { defaultStateDir, LocalApiKeyStore, LocalAuditLog } from '#shared/adapters/local/apikey-store';
import { InputError } from '#shared/errors';
import { ApiKeyService, ROLES } from '#shared/apikeys/index';
import type { ApiKeyView, Role } from '#shared/apikeys/index';
import { terminalSafe } from '#shared/export/index';

export interface KeysIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const processIo: KeysIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

const STATE_DIR_HELP =
  'state directory (default $KFSENSOR_STATE_DIR, else $XDG_DATA_HOME/keyfactor-command-sensor or ~/.local/share/keyfactor-command-sensor)';

/** Reads the first line of stdin (at most 4 KiB): tokens on the command line would leak into ps and shell history. */
async function readTokenFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('\n') || text.length > 4096) break;
  }
  return (text.split('\n')[0] ?? '').trim();
}

const collectRole = (value: string, previous: Role[]): Role[] => {
  const role = ROLES.find((r) => r === value);
  if (!role)
    throw new InvalidArgumentError(`unknown role ${JSON.stringify(value)} (one of ${ROLES.join(', ')})`);
  return [...previous, role];
};

const seconds = (value: string): number => {
  if (!/^\d{1,6}$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
};

function serviceFor(stateDir: string | undefined): ApiKeyService {
  const dir = stateDir ?? defaultStateDir();
  return new ApiKeyService({ store: new LocalApiKeyStore(dir), audit: new LocalAuditLog(dir) });
}

function describeKey(key: ApiKeyView): string {
  return [
    `key id:       ${key.keyId}`,
    `description:  ${terminalSafe(key.description)}`,
    `roles:        ${key.roles.join(', ')}`,
    `reauth (s):   ${key.reauthenticationTimeoutSeconds}`,
    `locked:       ${key.locked}`,
    `created:      ${key.createdAt}`,
    `last used:    ${key.lastUsedAt ?? 'never'}`,
  ].join('\n');
}

export function registerKeysCommand(program: Command, io: KeysIo = processIo): void {
  const keys = program
    .command('keys')
    .description('Manage the API keys of the sensor REST API (local state)');

  keys
    .command('create')
    .description('Create an API key; the token is printed once, to stdout, and cannot be shown again')
    .requiredOption('--role <role>', `role to grant (repeatable): ${ROLES.join(', ')}`, collectRole, [])
    .option('--key-id <id>', 'key id (3–64 of A–Z a–z 0–9 _ -); generated when absent')
    .option('--description <text>', 'what the key is for (at most 256 characters)')
    .option('--reauth-timeout <seconds>', 'how long an authentication may be cached (0–86400)', seconds)
    .option(
      '--state-dir <dir>',
      'state directory (default $KFSENSOR_STATE_DIR, else $XDG_DATA_HOME/keyfactor-command-sensor or ~/.local/share/keyfactor-command-sensor)',
    )
    .action(
      async (options: {
        role: Role[];
        keyId?: string;
        description?: string;
        reauthTimeout?: number;
        stateDir?: string;
      }) => {
        const { apiKey, secret } = await serviceFor(options.stateDir).create(null, {
          roles: options.role,
          keyId: options.keyId,
          description: options.description,
          reauthenticationTimeoutSeconds: options.reauthTimeout,
        });
        io.stdout.write(`${secret}\n`);
        io.stderr.write(
          `${describeKey(apiKey)}\nCopy the key now: it is not stored and cannot be shown again.\n`,
        );
      },
    );

  keys
    .command('import')
    .description('Register an existing API key (e.g. from another environment); the token is read from stdin')
    .requiredOption('--role <role>', `role to grant (repeatable): ${ROLES.join(', ')}`, collectRole, [])
    .option('--description <text>', 'what the key is for (at most 256 characters)')
    .option('--reauth-timeout <seconds>', 'how long an authentication may be cached (0–86400)', seconds)
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action(
      async (options: { role: Role[]; description?: string; reauthTimeout?: number; stateDir?: string }) => {
        const key = await readTokenFromStdin(io.stdin);
        const apiKey = await serviceFor(options.stateDir).import(null, {
          key,
          roles: options.role,
          description: options.description,
          reauthenticationTimeoutSeconds: options.reauthTimeout,
        });
        io.stderr.write(`${describeKey(apiKey)}\n`);
      },
    );

  for (const action of ['lock', 'unlock', 'delete'] as const) {
    keys
      .command(action)
      .description(
        action === 'delete'
          ? 'Delete API keys permanently (any client using them fails)'
          : `${action === 'lock' ? 'Lock' : 'Unlock'} API keys (the key and its roles are kept)`,
      )
      .argument('<keyIds...>', 'one or more key ids')
      .option('--state-dir <dir>', STATE_DIR_HELP)
      .action(async (keyIds: string[], options: { stateDir?: string }) => {
        const { results } = await serviceFor(options.stateDir)[action](null, keyIds);
        io.stdout.write(`${results.map((r) => `${r.keyId}\t${r.outcome}`).join('\n')}\n`);
        const missing = results.filter((r) => r.outcome === 'not-found').length;
        if (missing > 0) throw new InputError(`${missing} of ${results.length} key ids not found`);
      });
  }

  keys
    .command('list')
    .description('List API keys (never their tokens)')
    .option(
      '--state-dir <dir>',
      'state directory (default $KFSENSOR_STATE_DIR, else $XDG_DATA_HOME/keyfactor-command-sensor or ~/.local/share/keyfactor-command-sensor)',
    )
    .action(async (options: { stateDir?: string }) => {
      const service = serviceFor(options.stateDir);
      const rows: string[] = ['KEY ID\tROLES\tLOCKED\tREAUTH\tCREATED\tLAST USED\tDESCRIPTION'];
      let pageToken: string | undefined;
      do {
        const page = await service.list({ pageSize: 50, sortBy: 'keyId', order: 'asc', pageToken });
        for (const key of page.items) {
          rows.push(
            [
              key.keyId,
              key.roles.join(','),
              key.locked ? 'yes' : 'no',
              key.reauthenticationTimeoutSeconds,
              key.createdAt,
              key.lastUsedAt ?? 'never',
              terminalSafe(key.description),
            ].join('\t'),
          );
        }
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      io.stdout.write(`${rows.join('\n')}\n`);
    });
}

// `kfsensor simulator`: serves a generated or loaded inventory as Keyfactor Command's API on this machine.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { InputError } from '#shared/errors';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { loadDataset, saveDataset } from '#shared/simulator/dataset';
import { generateCertificatesParallel } from '#shared/simulator/generator/parallel';
import type { BasicUser, NegotiateOptions, SimulatorAuthOptions } from '#shared/simulator/auth';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '#shared/simulator/server';

export interface SimulatorCommandOptions {
  dataset?: string;
  generate: number;
  seed: number;
  save?: string;
  host: string;
  port: number;
  apiPath: string;
  tls: boolean;
  tlsCert?: string;
  tlsKey?: string;
  user: string[];
  anonymous: boolean;
  oauthIssuer?: string;
  oauthJwks?: string;
  oauthAudience?: string;
  keytab?: string;
  krb5Conf?: string;
  adminToken?: string;
}

const positiveInt = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(value);
};
const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSimulatorCommand(program: Command): void {
  program
    .command('simulator')
    .description('Serve a Keyfactor Command API on this machine from generated or loaded certificates')
    .option(
      '--dataset <file>',
      'serve the certificates of a JSONL dataset (one Command certificate object per line)',
    )
    .option(
      '--generate <count>',
      'generate this many certificates (ignored with --dataset)',
      positiveInt('--generate'),
      2000,
    )
    .option(
      '--seed <seed>',
      'generator seed: the same seed gives the same certificates',
      positiveInt('--seed'),
      1,
    )
    .option('--save <file>', 'also write the served certificates to this JSONL dataset')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', positiveInt('--port'), 8080)
    .option('--api-path <path>', 'API base path (Command 25 labs use /Keyfactor/API)', '/KeyfactorAPI')
    .option('--tls', 'serve HTTPS with a self-signed certificate (its CA file is printed)', false)
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--user <user:password>', 'a Basic-auth account (DOMAIN\\user or user); repeatable', collect, [])
    .option('--anonymous', 'let requests without credentials in', false)
    .option('--oauth-issuer <url>', 'accept Bearer JWTs from this issuer (with --oauth-jwks)')
    .option('--oauth-jwks <url>', "the issuer's JWKS URL")
    .option('--oauth-audience <aud>', 'required audience of Bearer tokens', 'urn:keyfactor:command')
    .option(
      '--keytab <file>',
      'accept Kerberos (Negotiate) tickets for the service principals in this keytab',
    )
    .option('--krb5-conf <file>', 'Kerberos configuration for --keytab', '/etc/krb5.conf')
    .option('--admin-token <token>', 'token for the /_simulator admin API (default: random, printed)')
    .action(async (options: SimulatorCommandOptions) => {
      const running = await startSimulatorFromOptions(options, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${running.banner}\n`);
      await waitForSignal();
      process.stderr.write('stopping the simulator\n');
      await running.simulator.close();
    });
}

export interface StartedFromOptions {
  simulator: RunningSimulator;
  banner: string;
  users: BasicUser[];
  adminToken: string;
}

/** Builds the inventory, auth and TLS from CLI options and starts the server; used by the CLI and the demo. */
export async function startSimulatorFromOptions(
  options: SimulatorCommandOptions,
  progress: (line: string) => void = () => {},
): Promise<StartedFromOptions> {
  // Check every option before the (possibly long) generation, so a typo fails at once.
  const users = options.user.map(parseUserOption);
  const negotiate = negotiateOptions(options);
  const certificates = await loadOrGenerate(options, progress);
  if (options.save) {
    await saveDataset(options.save, certificates);
    progress(`saved ${certificates.length} certificates to ${options.save}`);
  }
  if (users.length === 0 && !options.anonymous && !options.oauthIssuer && !negotiate) {
    users.push({ username: 'kfadmin', password: randomBytes(12).toString('base64url') });
  }
  const auth: SimulatorAuthOptions = { anonymous: options.anonymous };
  if (users.length > 0) auth.basic = users;
  if (negotiate) auth.negotiate = negotiate;
  if (options.oauthIssuer || options.oauthJwks) {
    if (!options.oauthIssuer || !options.oauthJwks)
      throw new InputError('--oauth-issuer and --oauth-jwks go together');
    auth.oauth = {
      issuer: options.oauthIssuer,
      jwksUri: options.oauthJwks,
      audience: options.oauthAudience ?? 'urn:keyfactor:command',
    };
  }
  const adminToken = options.adminToken ?? randomBytes(18).toString('base64url');
  const simulatorOptions: SimulatorOptions = {
    certificates,
    host: options.host,
    port: options.port,
    apiBasePath: options.apiPath,
    auth,
    adminToken,
  };
  if (options.tlsCert || options.tlsKey) {
    if (!options.tlsCert || !options.tlsKey) throw new InputError('--tls-cert and --tls-key go together');
    simulatorOptions.tls = {
      cert: readFileSync(options.tlsCert, 'utf8'),
      key: readFileSync(options.tlsKey, 'utf8'),
    };
  } else if (options.tls) {
    simulatorOptions.tls = 'self-signed';
  }
  const simulator = await startSimulator(simulatorOptions);
  let caFile: string | undefined;
  if (simulator.caCertPem && options.tls) {
    caFile = path.join(mkdtempSync(path.join(tmpdir(), 'kfsensor-simulator-')), 'ca.pem');
    writeFileSync(caFile, simulator.caCertPem);
  }
  return {
    simulator,
    users,
    adminToken,
    banner: banner(simulator, certificates.length, users, adminToken, caFile, options.anonymous, negotiate),
  };
}

async function loadOrGenerate(
  options: SimulatorCommandOptions,
  progress: (line: string) => void,
): Promise<CommandCertificate[]> {
  if (options.dataset) {
    const certificates = await loadDataset(options.dataset);
    progress(`loaded ${certificates.length} certificates from ${options.dataset}`);
    return certificates;
  }
  const started = Date.now();
  const certificates: CommandCertificate[] = [];
  const step = Math.max(10_000, Math.ceil(options.generate / 10));
  for await (const certificate of generateCertificatesParallel({
    seed: options.seed,
    count: options.generate,
    now: new Date(),
  })) {
    certificates.push(certificate);
    if (certificates.length % step === 0)
      progress(`generated ${certificates.length} / ${options.generate} certificates`);
  }
  const seconds = (Date.now() - started) / 1000;
  progress(`generated ${certificates.length} certificates (seed ${options.seed}) in ${seconds.toFixed(1)} s`);
  return certificates;
}

/** --keytab turns on Negotiate; both files must exist, so a typo fails at start and not at the first request. */
function negotiateOptions(options: SimulatorCommandOptions): NegotiateOptions | undefined {
  if (!options.keytab) return undefined;
  const krb5Conf = options.krb5Conf ?? '/etc/krb5.conf';
  for (const [flag, file] of [
    ['--keytab', options.keytab],
    ['--krb5-conf', krb5Conf],
  ] as const) {
    if (!existsSync(file)) throw new InputError(`${flag} ${file} does not exist`);
  }
  return { keytab: options.keytab, krb5Conf };
}

function parseUserOption(value: string): BasicUser {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new InputError(
      `--user takes USER:PASSWORD (or DOMAIN\\USER:PASSWORD); got "${value.slice(0, Math.max(colon, 0))}..."`,
    );
  }
  const account = value.slice(0, colon);
  const password = value.slice(colon + 1);
  const backslash = account.indexOf('\\');
  return backslash > 0
    ? { domain: account.slice(0, backslash), username: account.slice(backslash + 1), password }
    : { username: account, password };
}

function banner(
  simulator: RunningSimulator,
  count: number,
  users: BasicUser[],
  adminToken: string,
  caFile: string | undefined,
  anonymous: boolean,
  negotiate?: NegotiateOptions,
): string {
  const first = users[0];
  const account = first ? `${first.domain ? `${first.domain}\\` : ''}${first.username}` : undefined;
  const curlAuth = first ? `-u '${account}:${first.password}' ` : negotiate ? '--negotiate -u : ' : '';
  const curlTls = caFile ? `--cacert ${caFile} ` : '';
  const lines = [
    `Keyfactor Command simulator: ${count} certificates at ${simulator.url}`,
    '',
    ...users.map(
      (u) => `  Basic user:   ${u.domain ? `${u.domain}\\` : ''}${u.username}  password: ${u.password}`,
    ),
    ...(anonymous ? ['  anonymous requests are allowed'] : []),
    ...(negotiate
      ? [`  Kerberos:     Negotiate, service keytab ${negotiate.keytab}, krb5.conf ${negotiate.krb5Conf}`]
      : []),
    ...(caFile ? [`  TLS CA file:  ${caFile}`] : []),
    `  admin API:    ${simulator.origin}/_simulator/  (header x-simulator-admin-token: ${adminToken})`,
    '',
    'Try:',
    `  curl -s ${curlTls}${curlAuth}-H 'X-Keyfactor-Requested-With: APIClient' '${simulator.url}/Status/Endpoints'`,
    `  curl -sG -D - ${curlTls}${curlAuth}-H 'X-Keyfactor-Requested-With: APIClient' '${simulator.url}/Certificates' \\`,
    `    --data-urlencode 'QueryString=KeyType -eq "RSA" AND KeySizeInBits -lt 2048' -d ReturnLimit=2`,
    '',
    'Stop with Ctrl-C.',
  ];
  return lines.join('\n');
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

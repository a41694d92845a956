// `kfsensor demo` (npm start): the simulator with a generated inventory, a full remote scan with the sample config
// over OAuth2, the reports in ./out, then a few changes and an incremental scan that fetches only those.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type OidcProvider from 'oidc-provider';
import { loadConfig, type RemoteScanConfig } from '#shared/config/index';
import { CertState, type CommandCertificate } from '#shared/keyfactor/model';
import type { Logger } from '#shared/logging';
import { textLogger } from '#shared/remote/log';
import { noProgress, terminalProgress, type ProgressReporter } from '#shared/remote/progress';
import { runRemoteScan, type RemoteScanOutcome } from '#shared/remote/run';
import { DEFAULT_PIPELINE_CONFIG } from '#shared/scan/index';
import { generateInventory } from '#shared/simulator/generator/index';
import { generateCertificatesParallel } from '#shared/simulator/generator/parallel';
import { startIngestionReceiver, type IngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { CommandExit } from './scan-command';

const SAMPLE_CONFIG = path.resolve(import.meta.dirname, '../../config/sample-configs/keyfactor.yml');

/** A path as the reader would type it from here: relative inside the working directory, absolute elsewhere. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
const ADDED = 10;
const REVOKED = 5;

export interface DemoOptions {
  count: number;
  seed: number;
  out: string;
  stateDir?: string;
  keepRunning: boolean;
}

const positiveInt = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
  return Number(value);
};

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'start a simulated Command with generated certificates, scan it with the sample config (OAuth2), write the ' +
        'reports, then change a few certificates and show an incremental scan fetching only those (npm start)',
    )
    .option('--count <n>', 'certificates to generate', positiveInt('--count'), 3000)
    .option('--seed <n>', 'generator seed', positiveInt('--seed'), 1)
    .option('--out <dir>', 'where the reports are written', './out')
    .option('--state-dir <dir>', 'state directory (default: a fresh temporary one, removed at the end)')
    .option(
      '--keep-running',
      'keep the simulator and token server running after the scans (Ctrl-C stops)',
      false,
    )
    .action(async (options: DemoOptions) => {
      await runDemo(options);
    });
}

const fmt = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (line = '') => process.stdout.write(`${line}\n`);

/** The sample's OAuth2 values are literals for the operator to replace: the demo replaces them with local ones. */
export function demoConfigText(
  sample: string,
  values: { commandUrl: string; tokenUrl: string; clientSecret: string; outputDir: string },
): string {
  const replacements: [RegExp, string][] = [
    [/^(\s+url: )"https:\/\/command\.example\.com\/KeyfactorAPI"$/m, `$1"${values.commandUrl}"`],
    [/^(\s+token_url: )"[^"]*"$/m, `$1"${values.tokenUrl}"`],
    [/^(\s+client_secret: )"[^"]*"$/m, `$1"${values.clientSecret}"`],
    [/^(\s+output_dir: ).*$/m, `$1${JSON.stringify(values.outputDir)}`],
    // The sample lists keyfactor and export; the demo also writes the reports.
    [/^(\s+)- export\n(\s+config:)$/m, `$1- export\n$1- local_export\n$2`],
  ];
  let text = sample;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(text)) {
      throw new Error(
        `the sample config ${SAMPLE_CONFIG} no longer has the line the demo replaces (${pattern.source})`,
      );
    }
    text = text.replace(pattern, replacement);
  }
  return text;
}

function clientOf(sample: string, key: 'client_id' | 'scope'): string {
  const match = new RegExp(`^\\s+${key}: "([^"]*)"$`, 'm').exec(sample);
  if (!match?.[1]) throw new Error(`the sample config ${SAMPLE_CONFIG} has no quoted ${key}`);
  return match[1];
}

interface Services {
  simulator?: RunningSimulator;
  receiver?: IngestionReceiver;
  idp?: { close(): Promise<void> };
  tempStateDir?: string;
}

async function stopAll(services: Services): Promise<void> {
  await Promise.allSettled([services.simulator?.close(), services.receiver?.stop(), services.idp?.close()]);
  if (services.tempStateDir) rmSync(services.tempStateDir, { recursive: true, force: true });
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const started = Date.now();
  const services: Services = {};
  try {
    await demo(options, services);
    if (options.keepRunning) {
      say('\n--keep-running: the simulator and the token server stay up; Ctrl-C stops them.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
  } catch (error) {
    if (error instanceof CommandExit) throw error;
    process.stderr.write(
      `kfsensor demo: failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    throw new CommandExit(1);
  } finally {
    await stopAll(services);
  }
  say(`\nDemo finished in ${seconds(Date.now() - started)}; everything it started is stopped.`);
}

async function demo(options: DemoOptions, services: Services): Promise<void> {
  const now = new Date();
  say(`kfsensor demo: ${fmt(options.count)} generated certificates, the sample config, no network or AWS\n`);

  // 1. The inventory and the local services.
  let t = Date.now();
  const certificates: CommandCertificate[] = [];
  for await (const c of generateCertificatesParallel({ seed: options.seed, count: options.count, now })) {
    certificates.push(c);
  }
  say(
    `Generated ${fmt(certificates.length)} certificates (seed ${options.seed}) in ${seconds(Date.now() - t)}`,
  );

  t = Date.now();
  const sample = readFileSync(SAMPLE_CONFIG, 'utf8');
  const client = { clientId: clientOf(sample, 'client_id'), scope: clientOf(sample, 'scope') };
  const clientSecret = randomBytes(18).toString('base64url');
  const idp = await startTokenServer({ ...client, clientSecret });
  services.idp = idp;
  const simulator = await startSimulator({
    certificates,
    auth: { oauth: { issuer: idp.issuer, jwksUri: idp.jwksUri, audience: idp.resource } },
  });
  services.simulator = simulator;
  const sensorToken = randomBytes(18).toString('base64url');
  const receiver = await startIngestionReceiver({ token: sensorToken });
  services.receiver = receiver;
  say(`Started in ${seconds(Date.now() - t)}, all on 127.0.0.1:`);
  say(`  Keyfactor Command simulator  ${simulator.url}  (OAuth2 bearer tokens only)`);
  say(`  OAuth2 token endpoint        ${idp.tokenUrl}  (oidc-provider, client ${client.clientId})`);
  say(`  ingestion endpoint           ${receiver.url}  (the export plugin ships here)`);

  // 2. The sample config with the local addresses in place of its placeholders.
  const outputDir = path.resolve(options.out);
  const text = demoConfigText(sample, {
    commandUrl: simulator.url,
    tokenUrl: idp.tokenUrl,
    clientSecret,
    outputDir,
  });
  const env = {
    USER: process.env.USER || safeUserName(),
    INGESTION_URL: receiver.url,
    SENSOR_TOKEN: sensorToken,
  };
  const config = loadConfig({ text, fileName: `${shown(SAMPLE_CONFIG)} (demo)` }, { env });
  say(
    `\nConfig: ${shown(SAMPLE_CONFIG)} with url, token_url and client_secret pointed at ` +
      `the services above, local_export listed (output_dir ${outputDir}); USER, INGESTION_URL and SENSOR_TOKEN ` +
      `set in its environment. Plugins: ${config.plugins.join(', ')}`,
  );
  let stateDir = options.stateDir;
  if (!stateDir) {
    stateDir = mkdtempSync(path.join(tmpdir(), 'kfsensor-demo-state-'));
    services.tempStateDir = stateDir;
  }
  say(`State directory: ${stateDir}${services.tempStateDir ? ' (fresh, removed at the end)' : ''}`);

  // 3. The first scan: no cursor yet, so it is full.
  say('\n== Scan 1 ==');
  t = Date.now();
  const first = await scan(config, stateDir);
  const firstMs = Date.now() - t;
  printOutcome(first);
  say(
    `Scan 1 took ${seconds(firstMs)}; the ingestion endpoint accepted ${fmt(receiver.stats.findingLines)} findings`,
  );

  // Incremental scans re-fetch revocations from a day before the last scan (late revocation bookkeeping): the
  // generated inventory's recent revocations come again, unchanged, and are not exported again.
  const overlapFrom =
    Date.parse(first.scan!.startedAt ?? first.scan!.createdAt) -
    DEFAULT_PIPELINE_CONFIG.revocationOverlapSeconds * 1000;
  const recentlyRevoked = simulator.inventory
    .list()
    .filter((c) => c.RevocationEffDate && Date.parse(c.RevocationEffDate) >= overlapFrom)
    .map((c) => c.Id);

  // 4. A few changes, as an operator's Command would see between two scans.
  simulator.requestLog.clear();
  const shippedBefore = receiver.stats.findingLines;
  const added = simulator.inventory.addNew(
    generateInventory({ seed: options.seed + 1000, count: ADDED, now, includeCaCertificates: false }).map(
      ({ Id: _id, ImportDate: _imported, ...rest }) => rest,
    ),
  );
  const revocable = simulator.inventory
    .list()
    .filter((c) => c.CertState === CertState.Active && !added.some((a) => a.Id === c.Id));
  const step = Math.max(1, Math.floor(revocable.length / REVOKED));
  const revoked = [0, 1, 2, 3, 4]
    .map((i) => revocable[i * step])
    .filter((c): c is CommandCertificate => c !== undefined)
    .map((c) => simulator.inventory.revoke(c.Id, { reason: 1, comment: 'kfsensor demo' }));
  const total = simulator.inventory.size;
  say(
    `\nChanged the simulator: imported ${added.length} certificates (Ids ${added[0]?.Id}..${added.at(-1)?.Id}), ` +
      `revoked ${revoked.length} (Ids ${revoked.map((c) => c.Id).join(', ')}); it now holds ${fmt(total)} ` +
      `certificates (${fmt(new Set(simulator.inventory.list().map((c) => c.ContentBytes)).size)} distinct)`,
  );

  // 5. The second scan: the cursor makes it incremental.
  say('\n== Scan 2 ==');
  t = Date.now();
  const second = await scan(config, stateDir);
  const secondMs = Date.now() - t;
  printOutcome(second);
  const record = second.scan!;
  if (record.mode !== 'incremental') {
    throw new Error(
      `the second scan was ${record.mode ?? 'not planned'}, not incremental: the cursor did not hold`,
    );
  }
  const pages = simulator.requestLog.certificatePages();
  // What the simulator answered: a list response holds min(ReturnLimit, what is left of x-total-count).
  const returnedBy = pages.map((p) => {
    const limit = p.params?.returnLimit ?? 0;
    const left = (p.totalCount ?? 0) - ((p.params?.pageReturned ?? 1) - 1) * limit;
    return Math.max(0, Math.min(limit, left));
  });
  const returned = returnedBy.reduce((a, b) => a + b, 0);
  say(`\nScan 2 took ${seconds(secondMs)} (scan 1: ${seconds(firstMs)})`);
  say(`  mode: ${record.mode}`);
  say(`  certificates fetched: ${fmt(record.counts.fetchedCertificates)} of ${fmt(total)}`);
  say(
    `  changed by the demo: ${added.length + revoked.length} (${added.length} imported, ${revoked.length} revoked)`,
  );
  if (recentlyRevoked.length > 0) {
    say(
      `  also fetched: ${recentlyRevoked.length} certificates the generator revoked within the day before scan 1 ` +
        `(Ids ${recentlyRevoked.join(', ')}): the revocation overlap of incremental scans; unchanged, not exported again`,
    );
  }
  say(`  query sent: ${record.effectiveQuery ?? '(none)'}`);
  say(
    `  simulator request log: ${pages.length} certificate list requests returned ${fmt(returned)} certificates ` +
      `(${returnedBy.join(' + ')}; one-certificate answers are the planner's CertId probes)`,
  );
  say(
    `  exported: ${fmt(record.counts.exportedFindings)} findings (${fmt(receiver.stats.findingLines - shippedBefore)} ` +
      `finding lines reached the ingestion endpoint); reports rewritten in ${outputDir}`,
  );
}

const RESOURCE = 'urn:keyfactor:command';

/**
 * A real OAuth2 client-credentials server on loopback: oidc-provider, a dev dependency that `npm install` installs,
 * issuing RS256 JWT access tokens for the simulator's audience. In-memory by design; its start-up warnings about
 * that (and about the Node.js version) are for production deployments and are kept off the demo's output.
 */
async function startTokenServer(client: { clientId: string; clientSecret: string; scope: string }) {
  let Provider: typeof OidcProvider;
  const quiet = quietOidcProvider();
  try {
    Provider = (await import('oidc-provider')).default;
  } catch (error) {
    quiet.restore();
    throw new Error(
      `the demo's OAuth2 server needs the dev dependency oidc-provider (run npm install without --omit=dev): ` +
        (error instanceof Error ? error.message : String(error)),
    );
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'demo', use: 'sig', alg: 'RS256' };
  const { createServer } = await import('node:http');
  // The issuer URL needs the port, known only after listen: reserve one first.
  const placeholder = createServer();
  await new Promise<void>((resolve) => placeholder.listen(0, '127.0.0.1', resolve));
  const port = (placeholder.address() as AddressInfo).port;
  await new Promise<void>((resolve) => placeholder.close(() => resolve()));
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: client.scope,
      },
    ],
    jwks: { keys: [jwk] },
    scopes: [client.scope],
    ttl: { ClientCredentials: 600 },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: client.scope,
          audience: RESOURCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  const server = await new Promise<HttpServer>((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    resource: RESOURCE,
    close: async () => {
      quiet.restore();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Drops oidc-provider's console notices (see startTokenServer) until restored; every other line passes. */
function quietOidcProvider(): { restore(): void } {
  const { warn, info } = console;
  const keep =
    (write: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider ')) return;
      write(...args);
    };
  console.warn = keep(warn);
  console.info = keep(info);
  return {
    restore() {
      console.warn = warn;
      console.info = info;
    },
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'demo';
  }
}

async function scan(config: RemoteScanConfig, stateDir: string): Promise<RemoteScanOutcome> {
  let progress: ProgressReporter = noProgress;
  let clear = () => {};
  if (process.stderr.isTTY) {
    const line = terminalProgress(process.stderr);
    progress = line;
    clear = () => line.finish();
  }
  const logger: Logger = textLogger({ level: 'warn', beforeWrite: clear });
  const outcome = await runRemoteScan(config, { stateDir, logger, progress });
  progress.finish();
  // outcome.error too: a report that could not be written must fail the demo even when the scan completed.
  if (outcome.exitCode !== 0 || !outcome.scan || outcome.error !== null) {
    const state = outcome.scan ? `${outcome.scan.state}, ` : '';
    throw new Error(
      `the scan failed (${state}exit code ${outcome.exitCode}): ${outcome.error ?? 'no reason given'}`,
    );
  }
  return outcome;
}

function printOutcome(outcome: RemoteScanOutcome): void {
  if (outcome.summaryText) process.stdout.write(outcome.summaryText);
  for (const file of Object.values(outcome.localExport?.files ?? {})) say(`Wrote ${file}`);
}

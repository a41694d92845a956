// `kfsensor -c FILE` (and `kfsensor scan -c FILE`): a remote scan with the same core as the Lambdas.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { defaultStateDir } from '#shared/adapters/local/state-dir';
import {
  ConfigError,
  formatIssue,
  loadConfig,
  redactConfig,
  type RemoteScanConfig,
} from '#shared/config/index';
import { FeatureDisabledError } from '#shared/license/gates';
import { checkRemoteLicense, remoteInstanceId } from '#shared/license/remote';
import { VENDOR_PUBLIC_KEYS } from '#shared/license/vendor-keys';
import { jsonLogger, type Logger } from '#shared/logging';
import { textLogger } from '#shared/remote/log';
import { logProgress, noProgress, terminalProgress, type ProgressReporter } from '#shared/remote/progress';
import { REMOTE_EXIT, runRemoteScan } from '#shared/remote/run';

/** Thrown by an action to end the CLI with this exit code (main() returns it). */
export class CommandExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'CommandExit';
  }
}

export const SCAN_EXIT_HELP = `
Exit codes:
  0    the scan COMPLETED (or --dry-run / --print-config succeeded)
  1    any other failure (Command unreachable, state directory unusable, ...)
  2    the config is invalid (bad YAML, unset \${env:...}, wrong sensor_type, two auth methods, unknown plugin),
       or the --license file is refused or lacks a feature the config uses (remote-scan, kerberos, cbom-export)
  3    authentication failed (Basic/OAuth2/Kerberos credentials refused by Command or the token endpoint)
  4    the scan ended PARTIAL (some CertId ranges failed after retries; the cursor is not advanced), or
       export batches were not delivered (the next run sends them again)
  130  interrupted (Ctrl-C / SIGTERM): the scan is CANCELLED, the cursor unchanged, stored findings kept;
       a second Ctrl-C exits at once

Details: docs/remote-scan.md`;

interface ScanCommandOptions {
  config?: string;
  stateDir: string;
  dryRun?: boolean;
  printConfig?: boolean;
  logFormat: 'text' | 'json';
  progress: boolean;
  license?: string;
}

/** The scan options, shared by the root program (`kfsensor -c FILE`) and the `scan` subcommand. */
export function addScanOptions(command: Command, configRequired: boolean): Command {
  const config = new Option(
    '-c, --config <file>',
    'remote-scan config (YAML; see config/sample-configs/keyfactor.yml)',
  );
  if (configRequired) config.makeOptionMandatory();
  return command
    .addOption(config)
    .option('--state-dir <dir>', 'where cursors, findings and the outbox are kept', defaultStateDir())
    .option(
      '--dry-run',
      "check the config, authenticate and count the filter's certificates; fetch nothing else",
      false,
    )
    .option('--print-config', 'print the loaded config with secrets redacted, then exit', false)
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines on stderr: text or json (json turns the progress line off)',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .option(
      '--no-progress',
      'no updating progress line (default: shown when stderr is a terminal); log lines instead',
    )
    .addOption(
      new Option(
        '--license <file>',
        'the license for this host (kfsensor license instance-id prints the id it must name); checked for ' +
          'remote-scan, and kerberos / cbom-export when the config uses them',
      ).env('KFSENSOR_LICENSE'),
    );
}

/** Verifies --license for this host and the config's features; without one, says the run is unlicensed. */
function checkLicenseOrExit(options: ScanCommandOptions, config: RemoteScanConfig, logger: Logger): void {
  if (!options.license) {
    logger.warn(
      'no license given (--license FILE or KFSENSOR_LICENSE): running unlicensed; see docs/licensing.md',
    );
    return;
  }
  let text: string;
  try {
    text = readFileSync(options.license, 'utf8');
  } catch (error) {
    process.stderr.write(
      `kfsensor: cannot read the license file ${options.license}: ${(error as NodeJS.ErrnoException).code ?? 'error'}\n`,
    );
    throw new CommandExit(REMOTE_EXIT.config);
  }
  try {
    const verification = checkRemoteLicense(config, text, {
      trustedKeys: VENDOR_PUBLIC_KEYS,
      instanceId: remoteInstanceId(options.stateDir),
      now: new Date(),
    });
    if (verification.valid) {
      const { licenseId, licensee } = verification.license;
      const line = `license ${licenseId} (${licensee}): ${verification.daysToExpiry} days to expiry`;
      if (verification.daysToExpiry <= 30) logger.warn(line);
      else logger.info(line);
    }
  } catch (error) {
    if (!(error instanceof FeatureDisabledError)) throw error;
    process.stderr.write(`kfsensor: ${error.message}\n`);
    throw new CommandExit(REMOTE_EXIT.config);
  }
}

export function registerScanCommand(program: Command): void {
  addScanOptions(
    program
      .command('scan')
      .description('run a remote scan: the same as `kfsensor -c FILE`')
      .addHelpText('after', SCAN_EXIT_HELP),
    true,
  ).action(async (options: ScanCommandOptions) => {
    await runScanCommand(options);
  });
}

function loadOrExit(file: string, logger: Logger): RemoteScanConfig {
  try {
    const config = loadConfig(file);
    for (const warning of config.warnings) logger.warn(formatIssue(config.fileName, warning));
    return config;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`kfsensor: ${error.message}\n`);
      throw new CommandExit(REMOTE_EXIT.config);
    }
    throw error;
  }
}

export async function runScanCommand(options: ScanCommandOptions): Promise<void> {
  if (!options.config) throw new CommandExit(REMOTE_EXIT.config);
  const tty = process.stderr.isTTY === true;
  const showLine = tty && options.progress && options.logFormat === 'text' && !options.dryRun;
  let progress: ProgressReporter = noProgress;
  let clearLine = () => {};
  if (showLine) {
    const line = terminalProgress(process.stderr);
    progress = line;
    clearLine = () => line.finish();
  }
  const logger: Logger =
    options.logFormat === 'json'
      ? jsonLogger({ service: 'kfsensor' })
      : // With the progress line on, per-batch info lines would scroll it away: warnings and errors only.
        textLogger({ level: showLine ? 'warn' : 'info', beforeWrite: clearLine });
  if (!showLine && !options.dryRun) progress = logProgress(logger);

  const config = loadOrExit(options.config, logger);
  if (options.printConfig) {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return;
  }
  checkLicenseOrExit(options, config, logger);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      // The operator insists: leave now; the state store is crash-safe and the next run resumes.
      process.stderr.write(`\nkfsensor: ${signal} again: exiting at once\n`);
      process.exit(REMOTE_EXIT.cancelled);
    }
    process.stderr.write(
      `\nkfsensor: ${signal}: stopping (in-flight work finishes; Ctrl-C again to quit at once)\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runRemoteScan(config, {
      stateDir: options.stateDir,
      signal: controller.signal,
      logger,
      progress,
      dryRun: options.dryRun ?? false,
    });
    if (outcome.dryRun) {
      const d = outcome.dryRun;
      process.stdout.write(
        [
          `Config ${config.fileName}: OK`,
          `Command ${config.keyfactor.url}: authenticated (${config.keyfactor.auth.method})` +
            (d.productVersion ? `, version ${d.productVersion}` : ''),
          `Query: ${d.query === '' ? '(every certificate)' : d.query}`,
          `Matching certificates: ${d.matchingCertificates ?? 'unknown (no x-total-count)'}`,
        ].join('\n') + '\n',
      );
    }
    if (outcome.summaryText) process.stdout.write(outcome.summaryText);
    if (outcome.localExport) {
      for (const file of Object.values(outcome.localExport.files)) process.stdout.write(`Wrote ${file}\n`);
    }
    if (outcome.error) process.stderr.write(`kfsensor: ${outcome.error}\n`);
    if (outcome.exitCode !== 0) throw new CommandExit(outcome.exitCode);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

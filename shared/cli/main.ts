// kfsensor: the command-line front door. Subcommands register here; each lives in its own module.
import { Command, CommanderError } from 'commander';
import { SensorError } from '#shared/errors';
import { registerInspectCommand } from './inspect-command';
import { registerKeysCommand } from './keys-command';
import { registerLicenseCommand } from './license-command';
import {
  CommandExit,
  SCAN_EXIT_HELP,
  addScanOptions,
  registerScanCommand,
  runScanCommand,
} from './scan-command';
import { registerSimulatorCommand } from './simulator-command';
import { registerDemoCommand } from './demo-command';

export const EXIT = { ok: 0, other: 1, config: 2, auth: 3, partial: 4 } as const;

export function buildProgram(): Command {
  const program = new Command('kfsensor')
    .description('Certificate-inventory sensor for Keyfactor Command')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Root options (-c ...) come before a subcommand, so they never take a subcommand's own --state-dir.
    .enablePositionalOptions()
    .exitOverride();
  // `kfsensor -c FILE` runs a remote scan, as the user guide writes it.
  addScanOptions(program, false)
    .addHelpText('after', SCAN_EXIT_HELP)
    .action(async (options: Parameters<typeof runScanCommand>[0]) => {
      if (!options.config) {
        program.outputHelp();
        throw new CommandExit(EXIT.config);
      }
      await runScanCommand(options);
    });
  registerScanCommand(program);
  registerSimulatorCommand(program);
  registerInspectCommand(program);
  registerKeysCommand(program);
  registerLicenseCommand(program);
  registerDemoCommand(program);
  return program;
}

/** Runs the CLI and returns the process exit code; errors the user can fix are printed without a stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommandExit) return err.code;
    if (err instanceof CommanderError) {
      // Commander already printed help or the usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.config;
    }
    if (err instanceof SensorError) {
      process.stderr.write(`kfsensor: ${err.message}\n`);
      return EXIT.config;
    }
    process.stderr.write(
      `kfsensor: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT.other;
  }
}

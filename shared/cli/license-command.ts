// `kfsensor license`: issue (the VENDOR-SIDE tool, with a private key the user supplies), show/verify a license file,
// and verify a signed usage log. Keys are read from files and never printed.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { InputError } from '#shared/errors';
import { terminalSafe } from '#shared/export/index';
import { keyIdOf, MAX_LICENSE_TEXT_BYTES, signLicense, verifyLicense } from '#shared/license/license';
import { LICENSE_FEATURES } from '#shared/license/model';
import type {
  ActionedAllowance,
  LicenseDocument,
  LicenseFeature,
  LicenseVerification,
} from '#shared/license/model';
import { MAX_USAGE_LOG_BYTES, verifyUsageLog } from '#shared/license/usage-log';
import { VENDOR_PUBLIC_KEYS } from '#shared/license/vendor-keys';
import { CommandExit } from './scan-command';
import { defaultStateDir } from '#shared/adapters/local/state-dir';
import { remoteInstanceId } from '#shared/license/remote';

export interface LicenseIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  now: () => Date;
}

const processIo: LicenseIo = { stdout: process.stdout, stderr: process.stderr, now: () => new Date() };

const DAY_MS = 86_400_000;
const MAX_KEY_FILE_BYTES = 64 * 1024;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Reads at most `limit + 1` bytes: a larger file is then refused by size without reading all of it. */
function readLimited(file: string, limit: number, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new InputError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (err) {
    throw new InputError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  } finally {
    closeSync(fd);
  }
}

function readKeyFile(file: string, what: string): string {
  const text = readLimited(file, MAX_KEY_FILE_BYTES, what);
  if (text.length > MAX_KEY_FILE_BYTES) throw new InputError(`${what} ${file} is too large to be a PEM key`);
  return text;
}

/** A public key file, checked now so a wrong file is reported by name rather than as an untrusted license. */
function readPublicKey(file: string): string {
  const pem = readKeyFile(file, '--public-key');
  try {
    keyIdOf(pem);
  } catch {
    throw new InputError(`--public-key ${file} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`);
  }
  return pem;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const identifier = (option: string) => (value: string) => {
  if (!ID_PATTERN.test(value))
    throw new InvalidArgumentError(
      `${option} must be 1–64 of A–Z a–z 0–9 . _ - starting with a letter or digit`,
    );
  return value;
};

const instanceIdArg = (value: string) => {
  if (value.length === 0 || value.length > 128 || /[\s\p{Cc}]/u.test(value))
    throw new InvalidArgumentError('--instance-id must be 1–128 characters without spaces');
  return value;
};

const licenseeArg = (value: string) => {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 256 || /\p{Cc}/u.test(trimmed))
    throw new InvalidArgumentError('--licensee must be 1–256 characters without control characters');
  return trimmed;
};

/** YYYY-MM-DD (midnight UTC at the start of that day) or an ISO 8601 instant with a time zone. */
const instantArg = (option: string) => (value: string) => {
  const iso = DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value;
  const ms = Date.parse(iso);
  // A calendar date must survive the round trip (no 2027-02-30 rolling over into March).
  const valid =
    INSTANT.test(iso) &&
    Number.isFinite(ms) &&
    (!DATE_ONLY.test(value) || new Date(ms).toISOString().startsWith(value));
  if (!valid)
    throw new InvalidArgumentError(
      `${option} must be a date YYYY-MM-DD (midnight UTC) or an ISO 8601 instant with a time zone, e.g. 2027-01-31T00:00:00Z`,
    );
  return new Date(ms).toISOString();
};

const daysArg = (value: string) => {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 36_500)
    throw new InvalidArgumentError('--days must be a whole number of days from 1 to 36500');
  return Number(value);
};

const featuresArg = (value: string): LicenseFeature[] => {
  if (value.trim() === 'none') return [];
  const names = value.split(',').map((name) => name.trim());
  const features: LicenseFeature[] = [];
  for (const name of names) {
    const feature = LICENSE_FEATURES.find((f) => f === name);
    if (!feature)
      throw new InvalidArgumentError(
        `unknown feature ${JSON.stringify(name.slice(0, 64))} (comma-separated, from: ${LICENSE_FEATURES.join(', ')}; or none)`,
      );
    if (!features.includes(feature)) features.push(feature);
  }
  return features;
};

const allowanceArg = (value: string): ActionedAllowance => {
  if (value.toLowerCase() === 'site-license') return { type: 'Site-License' };
  if (!/^\d{1,15}$/.test(value))
    throw new InvalidArgumentError(
      '--allowance must be a whole number of actioned certificates, or site-license',
    );
  return { type: 'Limited', allowance: Number(value) };
};

function describeAllowance(allowance: ActionedAllowance): string {
  return allowance.type === 'Site-License' ? 'Site-License (unlimited)' : `${allowance.allowance}`;
}

/** Writes `text` to `file` atomically (temp file in the same directory, then rename), mode 0644. */
function writeAtomically(file: string, text: string): void {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    writeFileSync(temp, text, { mode: 0o644, flag: 'wx' });
    // The umask may have narrowed the mode; a license is not secret.
    chmodSync(temp, 0o644);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new InputError(`cannot write --out ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

interface IssueOptions {
  privateKey: string;
  licensee: string;
  instanceId: string;
  expires?: string;
  days?: number;
  issuedAt?: string;
  features?: LicenseFeature[];
  allowance: ActionedAllowance;
  licenseId?: string;
  out?: string;
}

function issue(options: IssueOptions, io: LicenseIo): void {
  if ((options.expires === undefined) === (options.days === undefined))
    throw new InputError('give exactly one of --expires DATE or --days N');
  const now = io.now();
  const issuedAt = options.issuedAt ?? now.toISOString();
  const expiresAt =
    options.expires ?? new Date(Date.parse(issuedAt) + (options.days ?? 0) * DAY_MS).toISOString();
  if (Date.parse(expiresAt) <= Date.parse(issuedAt))
    throw new InputError(`--expires ${expiresAt} must be after the issue time ${issuedAt}`);
  const stamp = issuedAt.slice(0, 10).replace(/-/g, '');
  const doc: LicenseDocument = {
    format: 'kfsensor-license/1',
    licenseId: options.licenseId ?? `LIC-${stamp}-${randomBytes(4).toString('hex').toUpperCase()}`,
    licensee: options.licensee,
    instanceId: options.instanceId,
    issuedAt,
    expiresAt,
    features: options.features ?? [...LICENSE_FEATURES],
    actionedCertificates: options.allowance,
  };
  const signed = signLicense(doc, readKeyFile(options.privateKey, '--private-key'));
  const text = `${JSON.stringify(signed, null, 2)}\n`;
  if (options.out) writeAtomically(options.out, text);
  else io.stdout.write(text);
  io.stderr.write(
    `issued license ${doc.licenseId} for ${terminalSafe(doc.licensee)} (instance ${doc.instanceId}), ` +
      `valid ${issuedAt} to ${expiresAt}; features: ${doc.features.join(', ') || 'none'}; actioned certificates: ` +
      `${describeAllowance(doc.actionedCertificates)}; signed ${signed.signature.algorithm} with key id ` +
      `${signed.signature.keyId}${options.out ? `; written to ${options.out}` : ''}\n`,
  );
  // Deliberate for test licenses (--issued-at / --expires in the past), but worth saying.
  if (Date.parse(expiresAt) <= now.getTime())
    io.stderr.write(`warning: license ${doc.licenseId} is already expired (expires ${expiresAt})\n`);
  else if (Date.parse(issuedAt) > now.getTime() + 5 * 60_000)
    io.stderr.write(`warning: license ${doc.licenseId} is not valid before ${issuedAt}\n`);
}

function describeLicense(license: LicenseDocument, instanceChecked: boolean, now: Date): string[] {
  const daysLeft = Math.floor((Date.parse(license.expiresAt) - now.getTime()) / DAY_MS);
  const expiry = daysLeft >= 0 ? `in ${daysLeft} day${daysLeft === 1 ? '' : 's'}` : `${-daysLeft} days ago`;
  return [
    `license id:    ${license.licenseId}`,
    `licensee:      ${terminalSafe(license.licensee)}`,
    `instance:      ${license.instanceId}${instanceChecked ? '' : ' (not checked: pass --instance-id to check it)'}`,
    `issued:        ${new Date(Date.parse(license.issuedAt)).toISOString()}`,
    `expires:       ${new Date(Date.parse(license.expiresAt)).toISOString()} (${expiry})`,
    `actioned certificates: ${describeAllowance(license.actionedCertificates)}`,
    'features:',
    ...LICENSE_FEATURES.map(
      (f) => `  ${f.padEnd(24)}${license.features.includes(f) ? 'enabled' : 'not enabled'}`,
    ),
  ];
}

function show(file: string, options: { instanceId?: string; publicKey: string[] }, io: LicenseIo): void {
  const text = readLimited(file, MAX_LICENSE_TEXT_BYTES, 'license file');
  const trustedKeys = [...VENDOR_PUBLIC_KEYS, ...options.publicKey.map(readPublicKey)];
  const now = io.now();
  let verification: LicenseVerification = verifyLicense(text, {
    trustedKeys,
    instanceId: options.instanceId ?? '',
    now,
  });
  // Without --instance-id there is no instance to check against: verify against the license's own (once authentic).
  if (options.instanceId === undefined && !verification.valid && verification.reason === 'wrong-instance') {
    verification = verifyLicense(text, {
      trustedKeys,
      instanceId: verification.license?.instanceId ?? '',
      now,
    });
  }
  const checked = options.instanceId !== undefined;
  if (verification.valid) {
    io.stdout.write(
      [
        'status:        valid',
        ...describeLicense(verification.license, checked, now),
        `signed by:     key id ${verification.signedBy}`,
        `days to expiry: ${verification.daysToExpiry}`,
      ].join('\n') + '\n',
    );
    return;
  }
  const lines = [`status:        invalid (${verification.reason})`];
  if (verification.license) lines.push(...describeLicense(verification.license, checked, now));
  io.stdout.write(`${lines.join('\n')}\n`);
  const hint =
    verification.reason === 'unknown-key'
      ? ' (to trust another key, e.g. the test vendor key, pass --public-key FILE)'
      : '';
  io.stderr.write(`kfsensor: license refused (${verification.reason}): ${verification.message}${hint}\n`);
  throw new CommandExit(2);
}

function verifyUsageLogFile(file: string, options: { publicKey?: string }, io: LicenseIo): void {
  const xml = readLimited(file, MAX_USAGE_LOG_BYTES, 'usage log');
  const publicKeyPem = options.publicKey === undefined ? undefined : readPublicKey(options.publicKey);
  const result = verifyUsageLog(xml, publicKeyPem === undefined ? {} : { publicKeyPem });
  io.stdout.write(
    [
      `status:          ${result.valid ? 'valid' : 'invalid'}`,
      `signing key:     ${result.keyFingerprint ?? 'none found'}${result.valid && !publicKeyPem ? ' (not pinned: pass --public-key with the instance key to check who signed it)' : ''}`,
      `instance:        ${result.instanceId ?? 'unknown'}`,
      `license:         ${result.licenseId ?? 'none'}`,
      `generated:       ${result.generatedAt ?? 'unknown'}`,
      `actioned runs:   ${result.runs}`,
    ].join('\n') + '\n',
  );
  if (!result.valid) {
    io.stderr.write(`kfsensor: usage log refused: ${result.reason ?? 'the signature does not verify'}\n`);
    throw new CommandExit(2);
  }
}

export function registerLicenseCommand(program: Command, io: LicenseIo = processIo): void {
  const license = program
    .command('license')
    .description(
      'Licenses: issue one (vendor side), show and verify a license file, verify a signed usage log',
    );

  license
    .command('issue')
    .description(
      'VENDOR-SIDE TOOL: issue a signed license. It needs the vendor private key (Ed25519, or RSA ≥ 2048 bits), ' +
        'which you supply with --private-key; the product itself only holds vendor public keys. Use the test key ' +
        'in test/fixtures/license for test licenses.',
    )
    .requiredOption('--private-key <file>', 'the vendor private key (PEM); read, never printed')
    .requiredOption('--licensee <name>', 'who the license is for', licenseeArg)
    .requiredOption(
      '--instance-id <id>',
      "the deployment's instance id (GET /v3/license shows it)",
      instanceIdArg,
    )
    .option(
      '--expires <date>',
      'expiry: YYYY-MM-DD (midnight UTC) or an ISO 8601 instant',
      instantArg('--expires'),
    )
    .option('--days <n>', 'expiry in N days from the issue time (instead of --expires)', daysArg)
    .option(
      '--issued-at <date>',
      'issue time (default now): YYYY-MM-DD or an ISO 8601 instant',
      instantArg('--issued-at'),
    )
    .option(
      '--features <list>',
      `comma-separated features, or none (default all: ${LICENSE_FEATURES.join(',')})`,
      featuresArg,
    )
    .requiredOption(
      '--allowance <n|site-license>',
      'actioned-certificate allowance: a whole number or site-license',
      allowanceArg,
    )
    .option('--license-id <id>', 'license id (default LIC-<date>-<random>)', identifier('--license-id'))
    .option('--out <file>', 'write the license here (atomically, mode 0644) instead of stdout')
    .addHelpText(
      'after',
      '\nExample (a test license signed with the test vendor key):\n' +
        '  kfsensor license issue --private-key test/fixtures/license/test-vendor-ed25519.key \\\n' +
        '    --licensee "Example Corp" --instance-id <id> --days 365 --allowance 1000 --out license.json\n',
    )
    .action((options: IssueOptions) => issue(options, io));

  license
    .command('show')
    .description(
      'Verify a license file against the vendor keys (and any --public-key) and show it: features, dates, days to ' +
        'expiry. Exit 0 when valid, 2 when refused (with the reason).',
    )
    .argument('<file>', 'the license file')
    .option('--instance-id <id>', "check the license is for this instance id (the sensor's)", instanceIdArg)
    .option(
      '--public-key <file>',
      'also trust this public key (PEM; repeatable), e.g. the test vendor key',
      collect,
      [],
    )
    .action((file: string, options: { instanceId?: string; publicKey: string[] }) => show(file, options, io));

  license
    .command('instance-id')
    .description(
      "Print this host's instance id for remote scans (kept in the state directory): ask the vendor for a license " +
        'naming it, then run kfsensor -c FILE --license FILE',
    )
    .option('--state-dir <dir>', 'the state directory remote scans use', defaultStateDir())
    .action((options: { stateDir: string }) => {
      io.stdout.write(`${remoteInstanceId(options.stateDir)}\n`);
    });

  license
    .command('verify-usage-log')
    .description(
      'Verify the XML-DSig signature of a usage log (GET /v3/license/usage-log). Exit 0 when valid, 2 when not.',
    )
    .argument('<file>', 'the usage log XML')
    .option('--public-key <file>', "the instance's public key (PEM): require the log to be signed by it")
    .action((file: string, options: { publicKey?: string }) => verifyUsageLogFile(file, options, io));
}

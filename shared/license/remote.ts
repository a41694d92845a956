// Licensing of remote scans (`kfsensor -c FILE --license FILE`): the host's instance id, kept in the state directory,
// and the features a config needs (remote-scan always; kerberos and cbom-export when the config uses them).
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RemoteScanConfig } from '#shared/config/types';
import { SensorError } from '#shared/errors';
import { requireFeature } from './gates.ts';
import { verifyLicense } from './license.ts';
import type { LicenseFeature, LicenseVerification } from './model.ts';

const INSTANCE_ID_FILE = 'instance-id';
const INSTANCE_ID = /^remote:[0-9a-f-]{36}$/;

export class RemoteInstanceError extends SensorError {}

/**
 * This host's instance id (`remote:<uuid>`), created in the state directory on first use; licenses for remote scans
 * name it. Two processes racing on first use: the exclusive create makes one id win and both read it.
 */
export function remoteInstanceId(stateDir: string): string {
  const file = path.join(stateDir, INSTANCE_ID_FILE);
  const read = (): string | null => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };
  let id = read();
  if (id === null) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `remote:${randomUUID()}\n`, { flag: 'wx', mode: 0o644 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    id = read();
  }
  if (id === null || !INSTANCE_ID.test(id))
    throw new RemoteInstanceError(
      `${file} does not hold an instance id (remote:<uuid>); restore it from a backup, or delete it to make a new ` +
        'one (licenses issued for the old id will then be refused)',
    );
  return id;
}

/** The features `config` uses, in the order they are checked. */
export function requiredRemoteFeatures(config: RemoteScanConfig): LicenseFeature[] {
  const features: LicenseFeature[] = ['remote-scan'];
  if (config.keyfactor.auth.method === 'kerberos') features.push('kerberos');
  if (config.localExport?.formats.includes('cbom')) features.push('cbom-export');
  return features;
}

/**
 * Verifies the license text for this host and checks every feature the config needs; throws FeatureDisabledError
 * naming the first missing feature and the license (or why no valid license is there).
 */
export function checkRemoteLicense(
  config: RemoteScanConfig,
  licenseText: string,
  options: { trustedKeys: readonly string[]; instanceId: string; now: Date },
): LicenseVerification {
  const verification = verifyLicense(licenseText, options);
  for (const feature of requiredRemoteFeatures(config)) requireFeature(verification, feature);
  return verification;
}

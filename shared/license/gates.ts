// Feature gates: what the API and the remote CLI call before doing something a license must enable (403 upstream).
import { SensorError } from '#shared/errors';
import type { LicenseFeature, LicenseVerification } from './model.ts';

/** The license does not enable `feature` (or no valid license is installed); the message says which and why. */
export class FeatureDisabledError extends SensorError {
  constructor(
    readonly feature: LicenseFeature,
    readonly licenseId: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** Throws FeatureDisabledError unless `verification` is a valid license that enables `feature`. */
export function requireFeature(verification: LicenseVerification | null, feature: LicenseFeature): void {
  if (verification === null) {
    throw new FeatureDisabledError(
      feature,
      null,
      `feature ${feature} is not enabled: no valid license is installed (no license has been installed). ` +
        `Install a license that includes ${feature}.`,
    );
  }
  if (!verification.valid) {
    const licenseId = verification.license?.licenseId ?? null;
    throw new FeatureDisabledError(
      feature,
      licenseId,
      `feature ${feature} is not enabled: no valid license is installed (${verification.reason}: ${verification.message})`,
    );
  }
  const { license } = verification;
  if (!license.features.includes(feature)) {
    const enabled = license.features.length > 0 ? license.features.join(', ') : 'none';
    throw new FeatureDisabledError(
      feature,
      license.licenseId,
      `feature ${feature} is not enabled by license ${license.licenseId} (${license.licensee}; features enabled: ` +
        `${enabled}). Ask the vendor for a license that includes ${feature}.`,
    );
  }
}

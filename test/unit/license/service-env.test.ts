// The licensing environment (LICENSE_ENV): each variable checked with a message naming it, the exclusion list parsed,
// and the trusted keys fixed in code whatever the environment holds.
import { describe, expect, it } from 'vitest';
import { LICENSE_ENV, licenseDepsFromEnv, licenseEnvFrom } from '#shared/adapters/aws/license-deps';
import { licenseServiceFromEnv } from '#shared/api/config';
import { VENDOR_PUBLIC_KEYS } from '#shared/license/vendor-keys';
import { silentLogger } from '#shared/logging';
import { TEST_VENDOR_PUBLIC_KEY } from '#test/support/license';

const ENV = {
  AWS_REGION: 'eu-west-1',
  [LICENSE_ENV.licenseTable]: 'license-table',
  [LICENSE_ENV.instanceId]: 'prod:0042',
  [LICENSE_ENV.instanceKeySecretArn]:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:instance-key-AbCdEf',
  [LICENSE_ENV.excludedMetadataFields]: ' Retired, ,Internal Notes ,',
  [LICENSE_ENV.findingsTable]: 'findings-table',
  [LICENSE_ENV.eventBusName]: 'sensor-bus',
};

function without(name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(ENV).filter(([k]) => k !== name));
}

describe('licenseEnvFrom', () => {
  it('parses the exclusion list, dropping blanks', () => {
    expect(licenseEnvFrom(ENV)[LICENSE_ENV.excludedMetadataFields]).toEqual(['Retired', 'Internal Notes']);
    expect(
      licenseEnvFrom(without(LICENSE_ENV.excludedMetadataFields))[LICENSE_ENV.excludedMetadataFields],
    ).toEqual([]);
  });

  it.each([
    LICENSE_ENV.licenseTable,
    LICENSE_ENV.instanceId,
    LICENSE_ENV.instanceKeySecretArn,
    LICENSE_ENV.findingsTable,
    LICENSE_ENV.eventBusName,
  ])('names %s when it is missing', (name) => {
    expect(() => licenseEnvFrom(without(name))).toThrow(`${name} is required`);
  });

  it('names a malformed instance id or secret ARN', () => {
    expect(() => licenseEnvFrom({ ...ENV, [LICENSE_ENV.instanceId]: 'has spaces' })).toThrow(
      /INSTANCE_ID must be/,
    );
    expect(() => licenseEnvFrom({ ...ENV, [LICENSE_ENV.instanceKeySecretArn]: 'instance-key' })).toThrow(
      /INSTANCE_KEY_SECRET_ARN must be a Secrets Manager secret ARN/,
    );
  });
});

describe('licenseDepsFromEnv', () => {
  it('trusts the compiled-in vendor keys; only code can pass others', () => {
    const deps = licenseDepsFromEnv(
      { ...ENV, TRUSTED_KEYS: TEST_VENDOR_PUBLIC_KEY, VENDOR_PUBLIC_KEYS: TEST_VENDOR_PUBLIC_KEY },
      { logger: silentLogger },
    );
    expect(deps.config.trustedKeys).toBe(VENDOR_PUBLIC_KEYS);
    expect(deps.config).toMatchObject({
      instanceId: 'prod:0042',
      excludedMetadataFields: ['Retired', 'Internal Notes'],
      deployment: 'aws:eu-west-1',
    });
    const injected = licenseDepsFromEnv(ENV, { logger: silentLogger, trustedKeys: [TEST_VENDOR_PUBLIC_KEY] });
    expect(injected.config.trustedKeys).toEqual([TEST_VENDOR_PUBLIC_KEY]);
    expect(licenseDepsFromEnv({ ...ENV, SENSOR_DEPLOYMENT: 'prod-eu' }).config.deployment).toBe('prod-eu');
  });
});

describe('licenseServiceFromEnv', () => {
  it('is undefined without LICENSE_TABLE_NAME (no license routes, no gates)', () => {
    expect(licenseServiceFromEnv(silentLogger, without(LICENSE_ENV.licenseTable))).toBeUndefined();
    expect(licenseServiceFromEnv(silentLogger, { ...ENV, [LICENSE_ENV.licenseTable]: '' })).toBeUndefined();
  });

  it('fails the cold start naming a missing variable when LICENSE_TABLE_NAME is set', () => {
    expect(() => licenseServiceFromEnv(silentLogger, without(LICENSE_ENV.instanceId))).toThrow(
      'INSTANCE_ID is required',
    );
    expect(licenseServiceFromEnv(silentLogger, ENV)).toBeDefined();
  });
});

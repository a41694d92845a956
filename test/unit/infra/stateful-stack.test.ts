// Template assertions for the stateful stack: retained, recoverable, encrypted tables and the bootstrap key secret.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_TTL_ATTRIBUTE } from '#shared/adapters/aws/apikey-store';
import { buildSensorApp } from '../../../infra/sensor-app.ts';
import { BOOTSTRAP_KEY_ID } from '../../../infra/stacks/stateful-stack.ts';

describe('StatefulStack', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(buildSensorApp({ bundle: false }).stateful);
  });

  it('creates the key table with the adapter key schema, on demand, with PITR and AWS-managed KMS encryption', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'keyId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('creates the audit table keyed by stream and sk, on demand, with PITR, AWS-managed KMS encryption and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: AUDIT_TTL_ATTRIBUTE, Enabled: true },
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('retains both tables and gives them no physical name', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(table).not.toHaveProperty('Properties.TableName');
    }
  });

  it('generates the bootstrap secret in the token alphabet and retains it', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ keyId: BOOTSTRAP_KEY_ID }),
          GenerateStringKey: 'secret',
          PasswordLength: 43,
          ExcludePunctuation: true,
          IncludeSpace: false,
        },
        Name: Match.absent(),
      },
    });
  });

  it('outputs the bootstrap secret ARN for the retrieval command', () => {
    template.hasOutput('BootstrapKeySecretArn', {
      Value: { Ref: Match.stringLikeRegexp('^BootstrapAdminKey') },
    });
  });
});

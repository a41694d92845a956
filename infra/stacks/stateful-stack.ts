// Stateful stack: what outlives a redeploy (the API-key and audit tables, the bootstrap key's secret), all retained.
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { AUDIT_TTL_ATTRIBUTE } from '#shared/adapters/aws/apikey-store';
import { acknowledge } from '../nag.ts';

/** The key id of the first Administrator key; its token is `kfsk_bootstrap-admin_<secret>`. */
export const BOOTSTRAP_KEY_ID = 'bootstrap-admin';

export class StatefulStack extends Stack {
  readonly apiKeysTable: dynamodb.Table;
  readonly auditTable: dynamodb.Table;
  readonly bootstrapKeySecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    };
    // Key schemas as in shared/adapters/aws/apikey-store.ts (createApiKeyTables).
    this.apiKeysTable = new dynamodb.Table(this, 'ApiKeys', {
      ...common,
      partitionKey: { name: 'keyId', type: dynamodb.AttributeType.STRING },
    });
    // TTL on the attribute the audit adapter sets when a retention is configured; items without it never expire.
    this.auditTable = new dynamodb.Table(this, 'ApiKeyAudit', {
      ...common,
      timeToLiveAttribute: AUDIT_TTL_ATTRIBUTE,
      partitionKey: { name: 'stream', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });

    // Secrets Manager generates the secret part (43 alphanumerics, ~256 bits, inside the token's base64url alphabet),
    // so the token never passes through CloudFormation; the bootstrap custom resource registers it, hashed.
    this.bootstrapKeySecret = new secretsmanager.Secret(this, 'BootstrapAdminKey', {
      description: `First Administrator API key of the sensor: the token is kfsk_<keyId>_<secret>`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ keyId: BOOTSTRAP_KEY_ID }),
        generateStringKey: 'secret',
        passwordLength: 43,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new CfnOutput(this, 'BootstrapKeySecretArn', {
      description: 'Secret holding the bootstrap Administrator key as { keyId, secret } (docs/deploy.md)',
      value: this.bootstrapKeySecret.secretArn,
    });
    acknowledge(this.bootstrapKeySecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'The bootstrap key is rotated by replacing it, not in place: an Administrator creates personal keys through ' +
        'the API and then locks or deletes bootstrap-admin; a rotated secret would no longer match the stored hash.',
    });
  }
}

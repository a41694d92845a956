// Integration-test global setup: one moto server for the run, warmed, its endpoint handed to tests via inject().
import type { TestProject } from 'vitest/node';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { SecretsManagerClient, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { startMoto } from '../support/moto';
import { localAwsClientConfig } from '../../shared/adapters/aws/client-config';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  const config = localAwsClientConfig(moto.endpoint);
  // Backends load lazily (DynamoDB ~0.5 s on first call), so warm each once here rather than inside a timed test.
  await Promise.all([
    new DynamoDBClient(config).send(new ListTablesCommand({})),
    new SQSClient(config).send(new ListQueuesCommand({})),
    new SecretsManagerClient(config).send(new ListSecretsCommand({})),
  ]);
  project.provide('awsEndpoint', moto.endpoint);
  return () => moto.stop();
}

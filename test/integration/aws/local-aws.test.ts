import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { localAwsClientConfig, awsClientConfigFromEnv } from '#shared/adapters/aws/client-config';

const config = localAwsClientConfig(inject('awsEndpoint'));

describe('local AWS emulation (moto)', () => {
  it('rejects a conditional put on an existing DynamoDB item', async () => {
    const ddb = new DynamoDBClient(config);
    const table = `t-${randomUUID()}`;
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const put = new PutItemCommand({
      TableName: table,
      Item: { pk: { S: 'a' }, v: { N: '1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    await ddb.send(put);
    await expect(ddb.send(put)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const got = await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } } }));
    expect(got.Item?.v?.N).toBe('1');
  });

  it('applies 40 concurrent ADD updates of one item atomically (scripts/moto_server.py serialises DynamoDB requests)', async () => {
    const ddb = new DynamoDBClient(config);
    const table = `t-${randomUUID()}`;
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await Promise.all(
      Array.from({ length: 40 }, () =>
        ddb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: 'counter' } },
            UpdateExpression: 'SET n = if_not_exists(n, :zero) + :one',
            ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' } },
          }),
        ),
      ),
    );
    const got = await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'counter' } } }));
    expect(got.Item?.n?.N).toBe('40');
  });

  it('delivers an SQS message with its attributes', async () => {
    const sqs = new SQSClient(config);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `q-${randomUUID()}` }));
    await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: '{"page":3}',
        MessageAttributes: { scanId: { DataType: 'String', StringValue: 's-1' } },
      }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    expect(received.Messages).toHaveLength(1);
    expect(received.Messages?.[0]?.Body).toBe('{"page":3}');
    expect(received.Messages?.[0]?.MessageAttributes?.scanId?.StringValue).toBe('s-1');
  });

  it('stores and returns a Secrets Manager secret, and reports a missing one', async () => {
    const sm = new SecretsManagerClient(config);
    const name = `s-${randomUUID()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: '{"password":"p"}' }));
    const value = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    expect(JSON.parse(value.SecretString ?? '{}')).toEqual({ password: 'p' });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: `${name}-missing` }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('takes the endpoint from AWS_ENDPOINT_URL so the same adapters run against AWS or moto', () => {
    expect(
      awsClientConfigFromEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5055' }),
    ).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:5055',
    });
    expect(awsClientConfigFromEnv({})).toEqual({ region: 'us-east-1' });
    expect(() => awsClientConfigFromEnv({ AWS_ENDPOINT_URL: 'not a url' })).toThrow();
  });
});

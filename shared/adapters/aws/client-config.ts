// AWS SDK client configuration: the endpoint comes from configuration so the same adapters run against AWS or moto.
import { z } from 'zod';

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const AwsEnvSchema = z.object({
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  AWS_ENDPOINT_URL: z.url().optional(),
});

/** Reads region and an optional endpoint override (AWS_ENDPOINT_URL, e.g. a local moto server) from the environment. */
export function awsClientConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AwsClientConfig {
  const parsed = AwsEnvSchema.parse(env);
  const region = parsed.AWS_REGION ?? parsed.AWS_DEFAULT_REGION ?? 'us-east-1';
  return parsed.AWS_ENDPOINT_URL ? { region, endpoint: parsed.AWS_ENDPOINT_URL } : { region };
}

/** Configuration for a local AWS emulator: a fixed region and throw-away credentials it accepts. */
export function localAwsClientConfig(endpoint: string): AwsClientConfig {
  return { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
}

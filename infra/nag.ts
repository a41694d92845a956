// cdk-nag v3 acknowledgements: one call per finding, each with the written reason the house style asks for.
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface NagAcknowledgement {
  /** A rule id (`AwsSolutions-L1`) or one finding of it (`AwsSolutions-IAM5[Resource::...]`). */
  id: string;
  reason: string;
}

/** Acknowledges findings on a construct and everything under it. */
export function acknowledge(scope: IConstruct, ...acks: NagAcknowledgement[]): void {
  for (const ack of acks) Validations.of(scope).acknowledge({ id: ack.id, reason: ack.reason });
}

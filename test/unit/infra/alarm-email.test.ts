// The alarmEmail context value subscribes an address to the alarm topic.
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, it } from 'vitest';
import { buildSensorApp } from '../../../infra/sensor-app.ts';

describe('alarm e-mail (cdk deploy -c alarmEmail=...)', () => {
  let template: Template;

  beforeAll(() => {
    const sensor = buildSensorApp({
      bundle: false,
      appProps: { context: { alarmEmail: 'ops@example.com' } },
    });
    template = Template.fromStack(sensor.stateless);
  }, 120_000);

  it('subscribes the address to the alarm topic by email', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

// cdk-nag: the whole app passes the AwsSolutions pack, every finding either fixed or acknowledged with a reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSensorApp, type SensorApp } from '../../../infra/sensor-app.ts';

interface Acknowledgement {
  id: string;
  reason: string;
}

describe('cdk-nag AwsSolutions checks', () => {
  let sensor: SensorApp;

  beforeAll(() => {
    sensor = buildSensorApp({ bundle: false });
  });

  it('reports no unacknowledged finding on either stack', () => {
    const report = new AwsSolutionsChecks(sensor.app).validateScope(sensor.app);
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources[0]?.constructPath}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('makes synthesis fail on a finding nobody acknowledged', () => {
    const probe = buildSensorApp({
      bundle: false,
      appProps: { outdir: mkdtempSync(path.join(tmpdir(), 'kf-nag-')) },
    });
    new Secret(probe.stateful, 'UnrotatedProbe');

    try {
      expect(() => probe.app.synth()).toThrow(/Validation failed|does not have automatic rotation/);
    } finally {
      rmSync(probe.app.outdir, { recursive: true, force: true });
    }
  });

  it('gives every acknowledgement a written reason', () => {
    // Validations.acknowledge records each as metadata `{ [qualified rule id]: reason }` on its construct.
    const acks: Acknowledgement[] = sensor.app.node
      .findAll()
      .flatMap((c: IConstruct) => c.node.metadata)
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ id, reason }));
    expect(acks.length).toBeGreaterThan(5);
    for (const ack of acks) expect(ack.reason.length, ack.id).toBeGreaterThan(40);
  });
});

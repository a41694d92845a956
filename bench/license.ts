// Licensing benchmark: the daily actioned-certificate count per stored finding against a bare pass over the same
// findings (the floor: paging plus one field read), and building/verifying the signed usage log with a year of runs.
import { analyseCertificate, type AnalysisContext } from '#shared/findings/index';
import { countActionedCertificates } from '#shared/license/actioned';
import { ACTIONED_CATEGORIES, type ActionedRun, type CommandContextSnapshot } from '#shared/license/model';
import { buildUsageLog, generateInstanceKeyPair, verifyUsageLog } from '#shared/license/usage-log';
import type { StoredFinding } from '#shared/scan/model';
import { generateInventory } from '#shared/simulator/generator/index';
import type { Row } from './report';

const NOW = new Date('2026-01-01T00:00:00Z');
const PAGE = 1000;

const CONTEXT: AnalysisContext = {
  now: NOW,
  sensor: { name: 'bench', version: '0.1.0', ranBy: 'bench' },
  source: { url: 'https://command.example.com/KeyfactorAPI' },
  labels: [],
};

/** Three collections referenced by an alert and workflows, with the query shapes Command's samples use. */
const SNAPSHOT: CommandContextSnapshot = {
  sensorKey: 'bench',
  url: 'https://command.example.com/KeyfactorAPI',
  capturedAt: NOW.toISOString(),
  scanId: 'bench',
  collections: [
    { Id: 1, Name: 'Active', Content: 'CertState -eq "1"' },
    { Id: 2, Name: 'Expiring', Content: 'ExpirationDate -ge "%TODAY%" AND ExpirationDate -le "%TODAY+30%"' },
    { Id: 3, Name: 'Web', Content: 'IssuedCN -contains "www" OR TemplateShortName -eq "WebServer"' },
  ],
  expirationAlerts: [{ Id: 1, DisplayName: 'Expiring', CertificateQuery: { Id: 2, Name: 'Expiring' } }],
  workflowDefinitions: [
    { Id: 'w1', DisplayName: 'Entered', Key: '3', WorkflowType: 'CertificateEnteredCollection' },
    { Id: 'w2', DisplayName: 'Left', Key: '1', WorkflowType: 'CertificateLeftCollection' },
  ],
};

function storedFindings(count: number): StoredFinding[] {
  // Distinct certificates (the count de-duplicates by finding id): analysed once, as a scan would store them.
  return generateInventory({ seed: 9, count, now: NOW }).map((certificate) => {
    const document = analyseCertificate(certificate, CONTEXT);
    return {
      sensorKey: 'bench',
      findingId: document.id,
      certificateId: certificate.Id,
      status: 'open',
      contentHash: document.id,
      firstSeenAt: NOW.toISOString(),
      lastSeenAt: NOW.toISOString(),
      lastSeenScanId: 'bench',
      resolvedAt: null,
      resolvedByScanId: null,
      document,
    };
  });
}

/** Pages as a store yields them (each page a promise, like a DynamoDB or SQLite read). */
async function* pages(findings: readonly StoredFinding[]): AsyncIterable<StoredFinding[]> {
  for (let index = 0; index < findings.length; index += PAGE)
    yield await Promise.resolve(findings.slice(index, index + PAGE));
}

function run(total: number, index: number): ActionedRun {
  const day = new Date(NOW.getTime() - index * 86_400_000).toISOString();
  return {
    runId: `run-${index}`,
    trigger: 'schedule',
    startedAt: day,
    finishedAt: day,
    total,
    categories: Object.fromEntries(ACTIONED_CATEGORIES.map((c) => [c, total])) as ActionedRun['categories'],
    examined: total,
    sensors: 1,
    allowance: 100_000,
    overLimit: false,
    warnings: [],
  };
}

export async function benchLicense(count: number): Promise<Row[]> {
  const findings = storedFindings(count);
  const rows: Row[] = [];

  // Baseline: paging through the findings and reading one field, the least any count must do.
  let sink = 0;
  let started = performance.now();
  for await (const page of pages(findings))
    for (const finding of page) sink += finding.document.crypto.x509.keyfactor?.has_private_key ? 1 : 0;
  const baseline = (performance.now() - started) / 1000;
  rows.push({
    stage: 'baseline: page through findings, read one field',
    findings: count,
    seconds: Number(baseline.toFixed(3)),
    'µs/finding': Number(((baseline * 1e6) / count).toFixed(2)),
    'findings/s': Math.round(count / baseline),
  });

  started = performance.now();
  const counted = await countActionedCertificates([{ context: SNAPSHOT, findings: pages(findings) }], {
    now: NOW,
    excludedMetadataFields: ['Retired'],
  });
  const seconds = (performance.now() - started) / 1000;
  sink += counted.total;
  rows.push({
    stage: 'actioned count: 7 categories, 3 referenced collections',
    findings: count,
    seconds: Number(seconds.toFixed(3)),
    'µs/finding': Number(((seconds * 1e6) / count).toFixed(2)),
    'findings/s': Math.round(count / seconds),
    'vs baseline': `${(seconds / baseline).toFixed(1)}x`,
    actioned: counted.total,
  });

  const key = generateInstanceKeyPair();
  const runs = Array.from({ length: 366 }, (_, index) => run(count, index));
  started = performance.now();
  const xml = buildUsageLog(
    {
      instance: { instanceId: 'bench', deployment: 'bench', sensorVersion: '0.1.0' },
      generatedAt: NOW.toISOString(),
      license: null,
      licenseStatus: 'none',
      runs,
    },
    key,
  );
  const built = (performance.now() - started) / 1000;
  started = performance.now();
  const verified = verifyUsageLog(xml, { publicKeyPem: key.publicKeyPem });
  const checked = (performance.now() - started) / 1000;
  if (!verified.valid) throw new Error(`usage log did not verify: ${verified.reason ?? ''}`);
  rows.push({
    stage: 'usage log: build + sign, 366 runs',
    seconds: Number(built.toFixed(3)),
    KiB: Math.round(Buffer.byteLength(xml) / 1024),
  });
  rows.push({ stage: 'usage log: verify, 366 runs', seconds: Number(checked.toFixed(3)) });
  if (sink < 0) console.log(sink);
  return rows;
}

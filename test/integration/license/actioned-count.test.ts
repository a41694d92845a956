// The actioned-certificate count end to end: an inventory of real certificates in the Command simulator (generated,
// plus hand-made boundary cases), real scans over HTTP into the memory stores with the collector capturing the
// Command context, then the count, compared with counts computed independently below from the simulator's Command
// objects with plain code (no code under test).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCommandContextStore } from '#shared/adapters/memory/license-stores';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { countActionedCertificates } from '#shared/license/actioned';
import { ACTIONED_CATEGORIES, type ActionedCategory } from '#shared/license/model';
import { recordingLogger } from '#test/support/logging';
import type { CertificateCollection, ExpirationAlert, WorkflowDefinition } from '#shared/simulator/extras';
import { generateInventory } from '#shared/simulator/generator/index';
import type { NameComponent } from '#shared/simulator/generator/names';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import type { CreateScanInput, ScanRecord } from '#shared/scan/index';
import { commandCertificate, craftCertificate } from '#test/support/findings/craft';
import { createMemoryPipeline, type MemoryPipeline } from '#test/support/scan/memory-pipeline';

const NOW = new Date('2026-02-01T12:00:00Z');
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const USER = { username: 'alice', password: 'correct horse', domain: 'CORP' };
/** Case differs from the generator's field names on purpose: Command compares names case-insensitively. */
const EXCLUDED = ['owner', 'ENVIRONMENT', 'AppName', 'costcenter'];

const at = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

// ---- The Command configuration: collections, the alerts and workflows that reference them. ----

interface TestCollection {
  collection: CertificateCollection;
  /** The same membership written as plain code over Command's fields (the independent expectation). */
  member: (c: CommandCertificate) => boolean;
  /** Whether an alert or an entered/left workflow references it (what category 7 counts). */
  counted: boolean;
}

function collection(id: number, name: string, content: string): CertificateCollection {
  return {
    Id: id,
    Name: name,
    Description: '',
    Automated: false,
    Content: content,
    DuplicationField: 0,
    ShowOnDashboard: false,
    Favorite: false,
  };
}

const cnIs = (cn: string) => (c: CommandCertificate) => (c.IssuedCN ?? '').toLowerCase() === cn;
const startOfToday = Math.floor(NOW.getTime() / DAY) * DAY;

const COLLECTIONS: TestCollection[] = [
  {
    collection: collection(11, 'Alerted', 'IssuedCN -eq "alerted.example.com"'),
    member: cnIs('alerted.example.com'),
    counted: true,
  },
  {
    collection: collection(12, 'Entered', 'IssuedCN -eq "entered.example.com"'),
    member: cnIs('entered.example.com'),
    counted: true,
  },
  {
    collection: collection(13, 'Left', 'IssuedCN -eq "left.example.com"'),
    member: cnIs('left.example.com'),
    counted: true,
  },
  {
    collection: collection(14, 'Enrollment only', 'IssuedCN -eq "enroll.example.com"'),
    member: cnIs('enroll.example.com'),
    counted: false,
  },
  {
    collection: collection(15, 'Nobody watches', 'IssuedCN -eq "lonely.example.com"'),
    member: cnIs('lonely.example.com'),
    counted: false,
  },
  {
    collection: collection(
      16,
      'Production expiring',
      'Environment -eq "production" AND ExpirationDate -le "%TODAY+30%"',
    ),
    member: (c) =>
      (c.Metadata?.['Environment'] ?? '').toLowerCase() === 'production' &&
      Date.parse(c.NotAfter) <= startOfToday + 30 * DAY,
    counted: true,
  },
  {
    collection: collection(17, 'Cloud names', 'SAN -contains "cloud.example"'),
    member: (c) =>
      (c.SubjectAltNameElements ?? []).some((san) => san.Value.toLowerCase().includes('cloud.example')),
    counted: true,
  },
  { collection: collection(18, 'Broken', 'IssuedCN -eq "unterminated'), member: () => false, counted: false },
];

function alert(id: number, collectionId: number | null): ExpirationAlert {
  const target = COLLECTIONS.find((c) => c.collection.Id === collectionId)?.collection;
  return {
    Id: id,
    DisplayName: `Alert ${id}`,
    Subject: 's',
    Message: 'm',
    ExpirationWarningDays: 30,
    Recipients: ['pki@example.com'],
    CertificateQuery: target ? { Id: target.Id, Name: target.Name } : null,
    RegisteredEventHandler: null,
    EventHandlerParameters: [],
  };
}

function workflow(id: string, type: string, key: string): WorkflowDefinition {
  return {
    Id: id,
    DisplayName: `Workflow ${id}`,
    Description: '',
    Key: key,
    KeyDisplayName: '',
    WorkflowType: type,
    DraftVersion: 1,
    PublishedVersion: 1,
  };
}

const ALERTS = [alert(1, 11), alert(2, 16), alert(3, 18), alert(4, null)];
const WORKFLOWS = [
  workflow('wf-enter', 'CertificateEnteredCollection', '12'),
  workflow('wf-left', 'CertificateLeftCollection', '13'),
  workflow('wf-cloud', 'CertificateEnteredCollection', '17'),
  workflow('wf-enroll', 'Enrollment', '14'),
  workflow('wf-revoke', 'Revocation', ''),
];

// ---- The inventory: generated certificates plus hand-made ones on the boundaries. ----

const SPECIAL_FIRST_ID = 5001;
const STORE = {
  StoreMachine: 'web01.example.com',
  StorePath: 'IIS Personal',
  StoreType: 5,
  Alias: 'a1',
  ChainLevel: 0,
  CertStoreId: '7b1e3c2a-0000-4000-8000-000000000001',
};
const SSL = { StorePath: null, AgentPool: 'Default', IPAddress: '10.0.0.5', Port: 443, NetworkName: 'DMZ' };
const EVERYTHING: Partial<CommandCertificate> = {
  CertRequestId: 900,
  Metadata: { Team: 'payments' },
  SSLLocations: [SSL],
  Locations: [STORE],
  HasPrivateKey: true,
};

/** A real certificate for `cn` valid until `notAfter`, with Command's fields overridden. */
function special(
  index: number,
  cn: string,
  overrides: Partial<CommandCertificate>,
  notAfter = NOW.getTime() + 200 * DAY,
) {
  const notBefore = new Date('2025-06-01T00:00:00Z');
  const subject: NameComponent[] = [
    { type: 'O', value: 'Example Corp' },
    { type: 'CN', value: cn },
  ];
  const der = craftCertificate({ subject, notBefore, notAfter: new Date(notAfter) });
  return commandCertificate(der, {
    Id: SPECIAL_FIRST_ID + index,
    IssuedCN: cn,
    IssuedDN: `CN=${cn}, O=Example Corp`,
    IssuerDN: 'CN=Test EC CA',
    SerialNumber: `5E${index.toString(16).padStart(4, '0')}`,
    NotBefore: at(notBefore.getTime()),
    NotAfter: at(notAfter),
    ImportDate: '2026-01-15T00:00:00.000Z',
    CertState: 1,
    KeySizeInBits: 256,
    KeyType: 3,
    SigningAlgorithm: 'SHA-256withECDSA',
    CertRequestId: null,
    HasPrivateKey: false,
    Metadata: {},
    ...overrides,
  });
}

const revoked = (msAgo: number): Partial<CommandCertificate> => ({
  CertState: 2,
  RevocationEffDate: at(NOW.getTime() - msAgo),
  RevocationReason: 4,
});

/** Hand-made certificates by label (the label is the subject CN unless overridden). */
function specials(): Map<string, CommandCertificate> {
  const list: Array<[string, Partial<CommandCertificate>, number?]> = [
    ['requested.example.com', { CertRequestId: 77 }],
    ['metadata.example.com', { Metadata: { Team: 'identity' } }],
    ['ssl.example.com', { SSLLocations: [SSL] }],
    ['store.example.com', { Locations: [STORE] }],
    ['key.example.com', { HasPrivateKey: true }],
    ['revoked-7d.example.com', revoked(7 * DAY)],
    ['revoked-7d1s.example.com', revoked(7 * DAY + SECOND)],
    ['revoked-7d1s-everything.example.com', { ...EVERYTHING, ...revoked(7 * DAY + SECOND) }],
    ['expired-1h.example.com', EVERYTHING, NOW.getTime() - HOUR],
    ['revoked-and-expired.example.com', { ...EVERYTHING, ...revoked(DAY) }, NOW.getTime() - HOUR],
    ['everything.example.com', EVERYTHING],
    ['revoked-1d-everything.example.com', { ...EVERYTHING, ...revoked(DAY) }],
    ['excluded-only.example.com', { Metadata: { OWNER: 'zoe', Environment: 'Production' } }],
    ['blank-metadata.example.com', { Metadata: { Team: '', Notes: null } }],
    ['alerted.example.com', {}],
    ['entered.example.com', {}],
    ['left.example.com', {}],
    ['enroll.example.com', {}],
    ['lonely.example.com', {}],
    ['alerted-revoked.example.com', { IssuedCN: 'alerted.example.com', ...revoked(30 * DAY) }],
    ['untouched.example.com', {}],
  ];
  return new Map(
    list.map(([cn, overrides, notAfter], index) => [cn, special(index, cn, overrides, notAfter)]),
  );
}

// ---- The independent expectation: plain code over the Command objects the simulator serves. ----

function expectedCounts(certificates: readonly CommandCertificate[], now: number) {
  const excluded = EXCLUDED.map((name) => name.toLowerCase());
  const watched = COLLECTIONS.filter((c) => c.counted);
  const categories = Object.fromEntries(ACTIONED_CATEGORIES.map((c) => [c, 0])) as Record<
    ActionedCategory,
    number
  >;
  const actionedIds: number[] = [];
  for (const c of certificates) {
    if (Date.parse(c.NotAfter) < now) continue;
    const inCategories: ActionedCategory[] = [];
    if (c.CertState === 2) {
      const revokedAt = Date.parse(c.RevocationEffDate ?? '');
      if (revokedAt >= now - 7 * DAY && revokedAt <= now) inCategories.push('revokedLastWeek');
    } else {
      if (c.CertRequestId != null && c.CertRequestId > 0) inCategories.push('requested');
      const metadata = Object.entries(c.Metadata ?? {});
      if (
        metadata.some(
          ([name, value]) => value != null && value.trim() !== '' && !excluded.includes(name.toLowerCase()),
        )
      ) {
        inCategories.push('metadata');
      }
      if ((c.SSLLocations ?? []).length > 0) inCategories.push('sslEndpoint');
      if ((c.Locations ?? []).length > 0) inCategories.push('certificateStore');
      if (c.HasPrivateKey === true) inCategories.push('privateKey');
      if (watched.some((w) => w.member(c))) inCategories.push('alertOrWorkflowCollection');
    }
    for (const category of inCategories) categories[category] += 1;
    if (inCategories.length > 0) actionedIds.push(c.Id);
  }
  return { total: actionedIds.length, categories, examined: certificates.length, actionedIds };
}

// ---- Plumbing. ----

let certificates: CommandCertificate[] = [];
let handMade = new Map<string, CommandCertificate>();
const running: RunningSimulator[] = [];

beforeAll(() => {
  // Generated "now" a week before the count so some revocations fall inside and some outside the last week.
  const generated = generateInventory({ seed: 31, count: 400, now: new Date(NOW.getTime() - 3 * DAY) });
  handMade = specials();
  certificates = [...generated, ...handMade.values()];
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function setup() {
  const sim = await startSimulator({
    certificates,
    now: () => NOW,
    auth: { basic: [USER] },
    extras: {
      collections: COLLECTIONS.map((c) => c.collection),
      expirationAlerts: ALERTS,
      workflowDefinitions: WORKFLOWS,
    },
    prewarm: false,
  });
  running.push(sim);
  const logger = recordingLogger();
  const p = createMemoryPipeline({ clock: { now: () => NOW }, logger });
  const contexts = new MemoryCommandContextStore();
  p.deps.contexts = contexts;
  const input = (overrides: Partial<CreateScanInput> = {}): CreateScanInput => ({
    sensorName: 'kf-licence',
    url: sim.url,
    queryFilter: null,
    credentials: { username: `${USER.domain}\\${USER.username}`, password: USER.password },
    callbackId: null,
    labels: [],
    priority: 'normal',
    pageSize: 200,
    ...overrides,
  });
  return { sim, p, contexts, input, logger };
}

async function runScan(p: MemoryPipeline, input: CreateScanInput): Promise<ScanRecord> {
  const { scan } = await p.api.createScan(input, { type: 'api' });
  await p.runUntilIdle();
  return (await p.scans.getScan(scan.scanId))!;
}

async function countFromStores(p: MemoryPipeline, contexts: MemoryCommandContextStore) {
  const snapshots = await contexts.listContexts();
  return countActionedCertificates(
    snapshots.map((context) => ({
      context,
      findings: p.findings.listFindings(context.sensorKey, { status: 'open' }),
    })),
    { now: NOW, excludedMetadataFields: EXCLUDED },
  );
}

describe('actioned certificates over a scanned simulator inventory', () => {
  it('counts every category as computed independently from the Command objects, each certificate once', async () => {
    const { sim, p, contexts, input } = await setup();
    const scan = await runScan(p, input());
    expect(scan.state).toBe('COMPLETED');
    expect(scan.errors).toEqual([]);
    // The context came from Command over HTTP, captured by the collector.
    const listed = sim.requestLog.entries().map((e) => e.path);
    expect(listed).toEqual(
      expect.arrayContaining(['/CertificateCollections', '/Alerts/Expiration', '/Workflow/Definitions']),
    );
    const [snapshot, ...others] = await contexts.listContexts();
    expect(others).toEqual([]);
    expect(snapshot).toMatchObject({
      sensorKey: scan.sensorKey,
      url: sim.url,
      scanId: scan.scanId,
      capturedAt: NOW.toISOString(),
    });
    expect(snapshot!.collections).toHaveLength(COLLECTIONS.length);

    const served = sim.inventory.list();
    expect(served).toHaveLength(certificates.length);
    const expected = expectedCounts(served, NOW.getTime());
    const result = await countFromStores(p, contexts);
    expect({ total: result.total, categories: result.categories, examined: result.examined }).toEqual({
      total: expected.total,
      categories: expected.categories,
      examined: expected.examined,
    });
    // The only warning is the collection whose query does not parse.
    expect(result.warnings).toEqual([
      expect.stringMatching(/collection "Broken" \(18\) has a query that cannot be evaluated/),
    ]);

    // The inventory exercises every category and the generated part is not trivial.
    for (const category of ACTIONED_CATEGORIES)
      expect(expected.categories[category], category).toBeGreaterThan(1);
    expect(expected.total).toBeLessThan(expected.examined);
    expect(expected.total).toBeLessThan(
      ACTIONED_CATEGORIES.reduce((sum, c) => sum + expected.categories[c], 0),
    );
  });

  it('puts each hand-made certificate where the seed says (boundaries, exclusions, references)', async () => {
    const { sim, p, input } = await setup();
    await runScan(p, input());
    const { actionedIds } = expectedCounts(sim.inventory.list(), NOW.getTime());
    const actioned = (label: string) => actionedIds.includes(handMade.get(label)!.Id);
    // Sanity of the independent expectation on the boundary cases, so the comparison above means something.
    expect(
      [
        'requested.example.com',
        'metadata.example.com',
        'ssl.example.com',
        'store.example.com',
        'key.example.com',
        'revoked-7d.example.com',
        'everything.example.com',
        'revoked-1d-everything.example.com',
        'alerted.example.com',
        'entered.example.com',
        'left.example.com',
      ].filter((cn) => !actioned(cn)),
    ).toEqual([]);
    expect(
      [
        'revoked-7d1s.example.com',
        'revoked-7d1s-everything.example.com',
        'expired-1h.example.com',
        'revoked-and-expired.example.com',
        'excluded-only.example.com',
        'blank-metadata.example.com',
        'enroll.example.com',
        'lonely.example.com',
        'alerted-revoked.example.com',
        'untouched.example.com',
      ].filter((cn) => actioned(cn)),
    ).toEqual([]);

    // Counting only the hand-made certificates (a sensor filtered to them) gives the same verdicts.
    const filtered = await setup();
    const scan = await runScan(filtered.p, filtered.input({ queryFilter: `CertId -ge ${SPECIAL_FIRST_ID}` }));
    expect(scan.state).toBe('COMPLETED');
    const onlySpecials = await countFromStores(filtered.p, filtered.contexts);
    const expected = expectedCounts([...handMade.values()], NOW.getTime());
    expect(onlySpecials).toMatchObject({
      total: expected.total,
      categories: expected.categories,
      examined: handMade.size,
    });
    expect(expected.total).toBe(11);
  });

  it('counts a certificate seen by two sensors once', async () => {
    const { sim, p, contexts, input } = await setup();
    const all = await runScan(p, input());
    const specialsOnly = await runScan(p, input({ queryFilter: `CertId -ge ${SPECIAL_FIRST_ID}` }));
    expect([all.state, specialsOnly.state]).toEqual(['COMPLETED', 'COMPLETED']);
    expect(all.sensorKey).not.toBe(specialsOnly.sensorKey);
    expect(await contexts.listContexts()).toHaveLength(2);
    const result = await countFromStores(p, contexts);
    const expected = expectedCounts(sim.inventory.list(), NOW.getTime());
    expect(result).toMatchObject({
      total: expected.total,
      categories: expected.categories,
      examined: expected.examined,
    });
    // Each sensor names the broken collection.
    expect(result.warnings).toHaveLength(2);
  });

  it('a Command account that may not read collections: the scan completes with an error, the count warns', async () => {
    const { sim, p, contexts, input, logger } = await setup();
    sim.faults.add({
      match: { path: '/CertificateCollections' },
      times: Infinity,
      action: { type: 'status', status: 403 },
    });
    const scan = await runScan(p, input());
    expect(scan.state).toBe('COMPLETED');
    expect(scan.counts.fetchedCertificates).toBe(certificates.length);
    expect(scan.errors).toEqual([
      expect.objectContaining({
        where: 'command-context',
        message: expect.stringMatching(/HTTP 403/) as unknown,
      }),
    ]);
    expect(logger.warnings.map((w) => w.message)).toContain(
      'capturing the Command context for the licence count failed; the scan goes on',
    );
    // No earlier snapshot: an empty one naming the failure keeps the sensor in the count.
    const [fallback, ...others] = await contexts.listContexts();
    expect(others).toEqual([]);
    expect(fallback).toMatchObject({
      sensorKey: scan.sensorKey,
      scanId: scan.scanId,
      collections: [],
      expirationAlerts: [],
      workflowDefinitions: [],
      captureError: expect.stringMatching(/HTTP 403/) as unknown,
    });
    const result = await countFromStores(p, contexts);
    const expected = expectedCounts(sim.inventory.list(), NOW.getTime());
    // Categories 1-6 still count as computed independently; 7 is not judged and the count says why.
    const { alertOrWorkflowCollection: _skipped, ...counted } = expected.categories;
    expect(result.categories).toEqual({ ...counted, alertOrWorkflowCollection: 0 });
    expect(result.examined).toBe(expected.examined);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^sensor ${scan.sensorKey} \\(.*\\): Command's collections, .* could not be read at scan ${scan.scanId} \\(.*HTTP 403`,
        ),
      ),
    ]);
  });

  it('a failed capture keeps the snapshot of an earlier scan', async () => {
    const { sim, p, contexts, input } = await setup();
    const first = await runScan(p, input());
    sim.faults.add({
      match: { path: '/Workflow/Definitions' },
      times: Infinity,
      action: { type: 'status', status: 500 },
    });
    const second = await runScan(p, input());
    expect(second.state).toBe('COMPLETED');
    expect(second.errors.map((e) => e.where)).toEqual(['command-context']);
    const [kept] = await contexts.listContexts();
    expect(kept).toMatchObject({ scanId: first.scanId, collections: expect.any(Array) as unknown });
    expect(kept!.captureError).toBeUndefined();
    expect(kept!.collections).toHaveLength(COLLECTIONS.length);
    const result = await countFromStores(p, contexts);
    const expected = expectedCounts(sim.inventory.list(), NOW.getTime());
    expect(result.categories).toEqual(expected.categories);
  });
});

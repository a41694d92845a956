// The actioned-certificate count over findings analysed from real signed certificates: each category alone, its
// boundaries and exclusions, combinations counted once, de-duplication across sensors, collections and warnings.
import { describe, expect, it } from 'vitest';
import type { Finding } from '#shared/findings/index';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { countActionedCertificates, type ActionedSource } from '#shared/license/actioned';
import type { CommandContextSnapshot } from '#shared/license/model';
import type { StoredFinding } from '#shared/scan/model';
import { analyseCrafted } from '#test/support/findings/harness';
import { craftCertificate } from '#test/support/findings/craft';

const NOW = new Date('2026-02-01T12:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const VALID_UNTIL = new Date('2026-06-01T00:00:00Z');

const commandTime = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

/** A finding of a freshly signed certificate (own DER, so own finding id) with Command's fields overridden. */
function finding(
  overrides: Partial<CommandCertificate> = {},
  options: { notAfter?: Date; commandNotAfter?: string } = {},
): Finding {
  const notAfter = options.notAfter ?? VALID_UNTIL;
  const der = craftCertificate({ notBefore: new Date('2025-06-01T00:00:00Z'), notAfter });
  return analyseCrafted(der, {
    NotAfter: options.commandNotAfter ?? commandTime(notAfter),
    CertRequestId: null,
    HasPrivateKey: false,
    ...overrides,
  });
}

function stored(
  document: Finding,
  sensorKey = 'sensor-a',
  status: 'open' | 'resolved' = 'open',
): StoredFinding {
  return {
    sensorKey,
    findingId: document.id,
    certificateId: document.observation.source.certificate_id,
    status,
    contentHash: 'hash',
    firstSeenAt: '2026-01-01T00:00:00.000Z',
    lastSeenAt: '2026-01-01T00:00:00.000Z',
    lastSeenScanId: 'scan-1',
    resolvedAt: status === 'resolved' ? '2026-01-02T00:00:00.000Z' : null,
    resolvedByScanId: status === 'resolved' ? 'scan-2' : null,
    document,
  };
}

// eslint-disable-next-line @typescript-eslint/require-await
async function* pages(findings: readonly StoredFinding[], pageSize = 2): AsyncGenerator<StoredFinding[]> {
  for (let i = 0; i < findings.length; i += pageSize) yield findings.slice(i, i + pageSize);
}

function source(
  findings: readonly (Finding | StoredFinding)[],
  context: CommandContextSnapshot | null = emptyContext(),
) {
  const list = findings.map((f) => ('document' in f ? f : stored(f)));
  return { context, findings: pages(list) } satisfies ActionedSource;
}

/** A captured context with nothing in it (no collection category, no warning). */
function emptyContext(): CommandContextSnapshot {
  return context();
}

function context(partial: Partial<CommandContextSnapshot> = {}): CommandContextSnapshot {
  return {
    sensorKey: 'sensor-a',
    url: 'https://command.example.com/KeyfactorAPI',
    capturedAt: NOW.toISOString(),
    scanId: 'scan-1',
    collections: [],
    expirationAlerts: [],
    workflowDefinitions: [],
    ...partial,
  };
}

async function count(
  sources: ActionedSource[],
  excludedMetadataFields: readonly string[] = [],
  now: Date = NOW,
) {
  return countActionedCertificates(sources, { now, excludedMetadataFields });
}

const NONE = {
  requested: 0,
  revokedLastWeek: 0,
  metadata: 0,
  sslEndpoint: 0,
  certificateStore: 0,
  privateKey: 0,
  alertOrWorkflowCollection: 0,
};

const STORE = {
  StoreMachine: 'web01.example.com',
  StorePath: 'IIS Personal',
  StoreType: 5,
  Alias: 'a1',
  ChainLevel: 0,
  CertStoreId: '7b1e3c2a-0000-4000-8000-000000000001',
};
const SSL = {
  StorePath: null,
  AgentPool: 'Default',
  IPAddress: '10.0.0.5',
  Port: 443,
  NetworkName: 'DMZ',
};

describe('each category alone', () => {
  it('an untouched certificate is examined but not actioned', async () => {
    const result = await count([source([finding()])]);
    expect(result).toEqual({ total: 0, categories: NONE, examined: 1, warnings: [] });
  });

  it.each([
    ['requested', { CertRequestId: 42 }],
    ['metadata', { Metadata: { Owner: 'alice' } }],
    ['sslEndpoint', { SSLLocations: [SSL] }],
    ['certificateStore', { Locations: [STORE] }],
    ['privateKey', { HasPrivateKey: true }],
    ['revokedLastWeek', { CertState: 2, RevocationEffDate: commandTime(new Date(NOW.getTime() - DAY)) }],
  ] satisfies Array<[string, Partial<CommandCertificate>]>)('%s', async (category, overrides) => {
    const result = await count([source([finding(overrides), finding()])]);
    expect(result).toEqual({ total: 1, categories: { ...NONE, [category]: 1 }, examined: 2, warnings: [] });
  });

  it('requested needs a CertRequestId above zero (null and 0 are CA-synced or imported)', async () => {
    const result = await count([
      source([
        finding({ CertRequestId: null }),
        finding({ CertRequestId: 0 }),
        finding({ CertRequestId: 1 }),
      ]),
    ]);
    expect(result.categories.requested).toBe(1);
  });

  it('privateKey needs HasPrivateKey true, not null or false', async () => {
    const result = await count([
      source([
        finding({ HasPrivateKey: false }),
        finding({ HasPrivateKey: undefined }),
        finding({ HasPrivateKey: true }),
      ]),
    ]);
    expect(result.categories.privateKey).toBe(1);
  });
});

describe('metadata', () => {
  it('blank and null values do not count', async () => {
    const result = await count([
      source([
        finding({ Metadata: { Owner: '' } }),
        finding({ Metadata: { Owner: null } }),
        finding({ Metadata: { Owner: '  ' } }),
      ]),
    ]);
    expect(result.categories.metadata).toBe(0);
  });

  it('excluded fields are compared case-insensitively; another populated field still counts', async () => {
    const onlyExcluded = finding({ Metadata: { RETIRED: 'True', Notes: '' } });
    const alsoOwner = finding({ Metadata: { retired: 'True', Owner: 'bob' } });
    const result = await count([source([onlyExcluded, alsoOwner])], ['Retired']);
    expect(result).toMatchObject({ total: 1, categories: { ...NONE, metadata: 1 } });
    // Without the exclusion both count.
    const unexcluded = await count([source([onlyExcluded, alsoOwner])]);
    expect(unexcluded.categories.metadata).toBe(2);
  });
});

describe('revoked and expired', () => {
  const revokedAt = (ms: number) => ({
    CertState: 2,
    RevocationEffDate: commandTime(new Date(NOW.getTime() - ms)),
  });

  it('revoked exactly 7 days ago counts; 7 days and 1 second ago does not; a future date does not', async () => {
    const exactly = finding(revokedAt(7 * DAY));
    const older = finding(revokedAt(7 * DAY + 1000));
    const justNow = finding(revokedAt(0));
    const future = finding(revokedAt(-1000));
    const result = await count([source([exactly, older, justNow, future])]);
    expect(result).toMatchObject({ total: 2, categories: { ...NONE, revokedLastWeek: 2 }, examined: 4 });
  });

  it('a revoked certificate counts only as revoked, even when requested, in a store, with a key and metadata', async () => {
    const everything = {
      CertRequestId: 7,
      Locations: [STORE],
      SSLLocations: [SSL],
      HasPrivateKey: true,
      Metadata: { Owner: 'carol' },
    };
    const recent = finding({ ...everything, ...revokedAt(DAY) });
    const old = finding({ ...everything, ...revokedAt(30 * DAY) });
    const result = await count([source([recent, old])]);
    expect(result).toMatchObject({ total: 1, categories: { ...NONE, revokedLastWeek: 1 } });
  });

  it('revoked without a revocation date is not counted as revoked last week', async () => {
    const result = await count([source([finding({ CertState: 2, RevocationEffDate: null })])]);
    expect(result.total).toBe(0);
  });

  it('a certificate that expired an hour ago counts nowhere, revoked yesterday or not', async () => {
    const expired = new Date(NOW.getTime() - HOUR);
    const everything = {
      CertRequestId: 7,
      Locations: [STORE],
      SSLLocations: [SSL],
      HasPrivateKey: true,
      Metadata: { Owner: 'carol' },
    };
    const result = await count([
      source([
        finding(everything, { notAfter: expired }),
        finding({ ...everything, ...revokedAt(DAY) }, { notAfter: expired }),
      ]),
    ]);
    expect(result).toEqual({ total: 0, categories: NONE, examined: 2, warnings: [] });
  });

  it('a certificate whose NotAfter is exactly now has not expired', async () => {
    const result = await count([source([finding({ HasPrivateKey: true }, { notAfter: NOW })])]);
    expect(result.categories.privateKey).toBe(1);
  });

  it("uses the certificate's notAfter when Command's NotAfter is missing or unreadable", async () => {
    const expired = new Date(NOW.getTime() - HOUR);
    const result = await count([
      source([
        finding({ HasPrivateKey: true }, { notAfter: expired, commandNotAfter: '' }),
        finding({ HasPrivateKey: true }, { notAfter: expired, commandNotAfter: 'not a date' }),
      ]),
    ]);
    expect(result.total).toBe(0);
  });

  it("trusts Command's NotAfter over the certificate's (Command reports what the count is about)", async () => {
    // Command without a zone suffix: read as UTC, not the host's local time.
    const commandSaysExpired = finding(
      { HasPrivateKey: true },
      { commandNotAfter: commandTime(new Date(NOW.getTime() - 1000)).slice(0, 19) },
    );
    const result = await count([source([commandSaysExpired])]);
    expect(result.total).toBe(0);
  });
});

describe('combinations and de-duplication', () => {
  it('a certificate in six categories counts once in the total and once in each category', async () => {
    const all = finding({
      CertRequestId: 9,
      Metadata: { Owner: 'dave' },
      SSLLocations: [SSL],
      Locations: [STORE],
      HasPrivateKey: true,
      IssuedCN: 'payments.example.com',
    });
    const ctx = context({
      collections: [{ Id: 5, Name: 'Payments', Content: 'IssuedCN -contains "payments"' }],
      expirationAlerts: [
        { Id: 1, DisplayName: 'Payments expiry', CertificateQuery: { Id: 5, Name: 'Payments' } },
      ],
    });
    const result = await count([source([all, finding({ HasPrivateKey: true })], ctx)]);
    expect(result).toEqual({
      total: 2,
      categories: {
        requested: 1,
        revokedLastWeek: 0,
        metadata: 1,
        sslEndpoint: 1,
        certificateStore: 1,
        privateKey: 2,
        alertOrWorkflowCollection: 1,
      },
      examined: 2,
      warnings: [],
    });
  });

  it('the same certificate under two sensors counts once, in the union of its categories', async () => {
    const der = craftCertificate({ notAfter: VALID_UNTIL });
    const inA = analyseCrafted(der, { NotAfter: commandTime(VALID_UNTIL), HasPrivateKey: true });
    const inB = analyseCrafted(der, {
      NotAfter: commandTime(VALID_UNTIL),
      Locations: [STORE],
      HasPrivateKey: false,
    });
    expect(inA.id).toBe(inB.id);
    const result = await count([
      source([stored(inA, 'sensor-a')]),
      source([stored(inB, 'sensor-b'), stored(finding(), 'sensor-b')]),
    ]);
    expect(result).toEqual({
      total: 1,
      categories: { ...NONE, privateKey: 1, certificateStore: 1 },
      examined: 2,
      warnings: [],
    });
  });

  it('a damaged stored document is examined, not counted, and named in a warning', async () => {
    const good = finding({ HasPrivateKey: true });
    const damaged = finding({ HasPrivateKey: true });
    const keyfactor = damaged.crypto.x509.keyfactor as unknown as Record<string, unknown>;
    delete keyfactor['locations'];
    keyfactor['cert_state'] = undefined;
    const result = await count([source([good, damaged])]);
    expect(result).toMatchObject({ total: 1, examined: 2, categories: { ...NONE, privateKey: 1 } });
    expect(result.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^sensor sensor-a: 1 stored finding\\(s\\) could not be judged and were not counted: ${damaged.id} \\(`,
        ),
      ),
    ]);
  });

  it('resolved findings are neither examined nor counted', async () => {
    const gone = stored(finding({ HasPrivateKey: true }), 'sensor-a', 'resolved');
    const result = await count([source([gone, finding({ HasPrivateKey: true })])]);
    expect(result).toMatchObject({ total: 1, examined: 1 });
  });

  it('accepts an async iterable of sources and an empty inventory', async () => {
    async function* none(): AsyncGenerator<ActionedSource> {}
    expect(await countActionedCertificates(none(), { now: NOW, excludedMetadataFields: [] })).toEqual({
      total: 0,
      categories: NONE,
      examined: 0,
      warnings: [],
    });
  });

  it('refuses an invalid clock', async () => {
    await expect(
      countActionedCertificates([], { now: new Date('nope'), excludedMetadataFields: [] }),
    ).rejects.toThrow(/now is not a valid date/);
  });
});

describe('alert and workflow collections', () => {
  const collections = [
    { Id: 1, Name: 'Web', Content: 'IssuedCN -endswith "web.example.com"' },
    { Id: 2, Name: 'Entered', Content: 'IssuedCN -eq "entered.example.com"' },
    { Id: 3, Name: 'Left', Content: 'IssuedCN -eq "left.example.com"' },
    { Id: 4, Name: 'Enrollment only', Content: 'IssuedCN -eq "enroll.example.com"' },
    { Id: 5, Name: 'Nobody watches', Content: 'IssuedCN -eq "lonely.example.com"' },
  ];
  const ctx = context({
    collections,
    expirationAlerts: [
      { Id: 10, DisplayName: 'Web expiry', CertificateQuery: { Id: 1, Name: 'Web' } },
      { Id: 11, DisplayName: 'No collection', CertificateQuery: null },
    ],
    workflowDefinitions: [
      { Id: 'w1', DisplayName: 'On enter', Key: '2', WorkflowType: 'CertificateEnteredCollection' },
      { Id: 'w2', DisplayName: 'On leave', Key: ' 3 ', WorkflowType: 'CertificateLeftCollection' },
      { Id: 'w3', DisplayName: 'Enroll', Key: '4', WorkflowType: 'Enrollment' },
      { Id: 'w4', DisplayName: 'Revoke', Key: '', WorkflowType: 'Revocation' },
    ],
  });

  it('counts members of collections referenced by an alert or an entered/left workflow only', async () => {
    const named = (cn: string, overrides: Partial<CommandCertificate> = {}) =>
      finding({ IssuedCN: cn, ...overrides });
    const result = await count([
      source(
        [
          named('shop.web.example.com'),
          named('entered.example.com'),
          named('left.example.com'),
          named('enroll.example.com'),
          named('lonely.example.com'),
          // Members that are revoked (long ago) or expired do not count.
          named('old.web.example.com', { CertState: 2, RevocationEffDate: '2025-01-01T00:00:00Z' }),
        ],
        ctx,
      ),
    ]);
    expect(result).toEqual({
      total: 3,
      categories: { ...NONE, alertOrWorkflowCollection: 3 },
      examined: 6,
      warnings: [],
    });
  });

  it('evaluates %TODAY% against the count clock', async () => {
    const soon = new Date(NOW.getTime() + 10 * DAY);
    const later = new Date(NOW.getTime() + 60 * DAY);
    const expiring = context({
      collections: [
        {
          Id: 2,
          Name: 'Expiring in 30 Days',
          Content: 'ExpirationDate -ge "%TODAY%" AND ExpirationDate -le "%TODAY+30%"',
        },
      ],
      expirationAlerts: [
        { Id: 1, DisplayName: 'Soon', CertificateQuery: { Id: 2, Name: 'Expiring in 30 Days' } },
      ],
    });
    const result = await count([
      source([finding({}, { notAfter: soon }), finding({}, { notAfter: later })], expiring),
    ]);
    expect(result.categories.alertOrWorkflowCollection).toBe(1);
    // Thirty days on, the second one is inside the window and the first has expired.
    const later30 = await count(
      [source([finding({}, { notAfter: soon }), finding({}, { notAfter: later })], expiring)],
      [],
      new Date(NOW.getTime() + 40 * DAY),
    );
    expect(later30.categories.alertOrWorkflowCollection).toBe(1);
  });

  it('evaluates metadata fields and stores in collection queries', async () => {
    const c = context({
      collections: [{ Id: 8, Name: 'Team A on IIS', Content: 'Team -eq "A" AND CertStoreFQDN -ne NULL' }],
      workflowDefinitions: [
        { Id: 'w', DisplayName: 'Team A', Key: '8', WorkflowType: 'certificateenteredcollection' },
      ],
    });
    const result = await count(
      [
        source(
          [
            finding({ Metadata: { team: 'a' }, Locations: [STORE] }),
            finding({ Metadata: { Team: 'A' } }),
            finding({ Metadata: { Team: 'B' }, Locations: [STORE] }),
          ],
          c,
        ),
      ],
      ['Team'],
    );
    expect(result.categories).toEqual({ ...NONE, certificateStore: 2, alertOrWorkflowCollection: 1 });
    expect(result.total).toBe(2);
  });

  it('warns about a bad query, an unanswerable field, a non-numeric Key and an unknown collection, and skips them', async () => {
    const c = context({
      collections: [
        { Id: 1, Name: 'Broken', Content: 'IssuedCN -eq "unterminated' },
        { Id: 2, Name: 'Archived', Content: 'ArchivedKey -eq true' },
        { Id: 3, Name: 'Owned', Content: 'OwnerRoleName -eq "PKI"' },
        { Id: 4, Name: 'Fine', Content: 'IssuedCN -eq "fine.example.com"' },
      ],
      expirationAlerts: [
        { Id: 1, DisplayName: 'A1', CertificateQuery: { Id: 1, Name: 'Broken' } },
        { Id: 2, DisplayName: 'A2', CertificateQuery: { Id: 2, Name: 'Archived' } },
        { Id: 3, DisplayName: 'A3', CertificateQuery: { Id: 3, Name: 'Owned' } },
        { Id: 4, DisplayName: 'A4', CertificateQuery: { Id: 99, Name: 'Deleted' } },
      ],
      workflowDefinitions: [
        { Id: 'w1', DisplayName: 'Named key', Key: 'Fine', WorkflowType: 'CertificateEnteredCollection' },
        { Id: 'w2', DisplayName: 'Good', Key: '4', WorkflowType: 'CertificateLeftCollection' },
      ],
    });
    const result = await count([
      source([finding({ IssuedCN: 'fine.example.com' }), finding({ IssuedCN: 'x' })], c),
    ]);
    expect(result.categories.alertOrWorkflowCollection).toBe(1);
    expect(result.warnings).toHaveLength(5);
    const text = result.warnings.join('\n');
    expect(text).toMatch(/collection "Broken" \(1\) has a query that cannot be evaluated/);
    expect(text).toMatch(
      /collection "Archived" \(2\) uses ArchivedKey, which the stored findings do not record/,
    );
    expect(text).toMatch(/collection "Owned" \(3\) has a query that cannot be evaluated .*OwnerRoleName/);
    expect(text).toMatch(/expiration alert "A4" \(4\) references collection 99, which Command did not list/);
    expect(text).toMatch(
      /CertificateEnteredCollection workflow "Named key" \(w1\) has Key "Fine", which is not a collection id/,
    );
    expect(
      result.warnings.every((w) =>
        w.startsWith('sensor sensor-a (https://command.example.com/KeyfactorAPI)'),
      ),
    ).toBe(true);
  });

  it('a context whose capture failed counts categories 1-6 and warns about 7', async () => {
    const failed = context({ scanId: 'scan-7', captureError: 'HTTP 403 on GET /CertificateCollections' });
    const result = await count([source([finding({ HasPrivateKey: true })], failed)]);
    expect(result).toMatchObject({ total: 1, categories: { ...NONE, privateKey: 1 } });
    expect(result.warnings).toEqual([
      "sensor sensor-a (https://command.example.com/KeyfactorAPI): Command's collections, expiration alerts and workflow definitions could not be read at scan scan-7 (HTTP 403 on GET /CertificateCollections), so its certificates were not judged for the alert/workflow collection category",
    ]);
  });

  it('a sensor without a captured context gets a warning and no collection category', async () => {
    const result = await count([source([stored(finding({ IssuedCN: 'x' }), 'sensor-z')], null)]);
    expect(result.warnings).toEqual([expect.stringMatching(/^sensor sensor-z: no Command context/)]);
  });
});

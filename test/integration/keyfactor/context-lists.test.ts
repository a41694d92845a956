// The client's list methods for the licence count (collections, expiration alerts, workflow definitions) and
// captureCommandContext, against the simulator over real HTTP: every page in both parameter styles, hostile bodies,
// permission errors, and a snapshot holding only the fields the model keeps.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicAuth,
  CommandClient,
  CommandPermissionError,
  CommandResponseError,
  CommandUnavailableError,
} from '#shared/keyfactor/index';
import { captureCommandContext } from '#shared/license/command-context';
import type { CertificateCollection, ExpirationAlert, WorkflowDefinition } from '#shared/simulator/extras';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';

const NOW = new Date('2026-01-01T00:00:00Z');
const USER = { username: 'alice', password: 'correct horse', domain: 'CORP' };

const collections: CertificateCollection[] = Array.from({ length: 23 }, (_, i) => ({
  Id: i + 1,
  Name: `Collection ${i + 1}`,
  Description: `description ${i + 1}`,
  Automated: false,
  Content: `IssuedCN -contains "c${i + 1}"`,
  DuplicationField: 0,
  ShowOnDashboard: false,
  Favorite: false,
}));
const alerts: ExpirationAlert[] = Array.from({ length: 12 }, (_, i) => ({
  Id: i + 1,
  DisplayName: `Alert ${i + 1}`,
  Subject: 'secret subject',
  Message: 'message template',
  ExpirationWarningDays: 30,
  Recipients: ['pki@example.com'],
  CertificateQuery: i % 4 === 3 ? null : { Id: i + 1, Name: `Collection ${i + 1}` },
  RegisteredEventHandler: null,
  EventHandlerParameters: [],
}));
const workflows: WorkflowDefinition[] = Array.from({ length: 17 }, (_, i) => ({
  Id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  DisplayName: `Workflow ${String(i + 1).padStart(2, '0')}`,
  Description: 'd',
  Key: i % 2 === 0 ? String(i + 1) : '',
  KeyDisplayName: '',
  WorkflowType:
    i % 3 === 0 ? 'CertificateEnteredCollection' : i % 3 === 1 ? 'CertificateLeftCollection' : 'Enrollment',
  DraftVersion: 1,
  PublishedVersion: 1,
}));

let sim: RunningSimulator;
const client = (overrides: Partial<ConstructorParameters<typeof CommandClient>[0]> = {}) =>
  new CommandClient({
    baseUrl: sim.url,
    auth: new BasicAuth(`${USER.domain}\\${USER.username}`, USER.password),
    retry: { maxAttempts: 2, baseDelayMs: 2, maxDelayMs: 5 },
    pageSize: 5,
    ...overrides,
  });

beforeAll(async () => {
  sim = await startSimulator({
    certificates: generateInventory({ seed: 5, count: 20, now: NOW }),
    now: () => NOW,
    auth: { basic: [USER] },
    extras: { collections, expirationAlerts: alerts, workflowDefinitions: workflows },
    prewarm: false,
  });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.faults.clear();
  sim.requestLog.clear();
});

function requestsTo(path: string) {
  return sim.requestLog.entries().filter((e) => e.path.toLowerCase() === path.toLowerCase());
}

describe('list methods', () => {
  it('read every page of each list (v11 parameter names)', async () => {
    const c = client();
    expect((await c.listCollections()).map((x) => x.Id)).toEqual(collections.map((x) => x.Id));
    expect((await c.listExpirationAlerts()).map((x) => x.Id)).toEqual(alerts.map((x) => x.Id));
    const defs = await c.listWorkflowDefinitions();
    expect(defs.map((x) => x.Id).sort()).toEqual(workflows.map((x) => x.Id).sort());
    // 23 collections in pages of 5: five pages, the last one short.
    const pages = requestsTo('/CertificateCollections');
    expect(pages.map((e) => e.params?.pageReturned)).toEqual([1, 2, 3, 4, 5]);
    expect(pages.every((e) => /(^|&)PageReturned=\d+&ReturnLimit=5(&|$)/.test(e.rawQuery))).toBe(true);
    expect(requestsTo('/Alerts/Expiration')).toHaveLength(3);
    expect(requestsTo('/Workflow/Definitions')).toHaveLength(4);
  });

  it('stop on x-total-count when the last page is full', async () => {
    const items = await client({ pageSize: 4 }).listExpirationAlerts();
    expect(items).toHaveLength(12);
    expect(requestsTo('/Alerts/Expiration').map((e) => e.params?.pageReturned)).toEqual([1, 2, 3]);
  });

  it('use each endpoint’s v10 prefix (pq., pagedQuery., query.)', async () => {
    const c = client({ paramStyle: 'v10' });
    expect(await c.listCollections()).toHaveLength(23);
    expect(await c.listExpirationAlerts()).toHaveLength(12);
    expect(await c.listWorkflowDefinitions()).toHaveLength(17);
    expect(requestsTo('/CertificateCollections')[0]?.rawQuery).toBe('pq.pageReturned=1&pq.returnLimit=5');
    expect(requestsTo('/Alerts/Expiration')[0]?.rawQuery).toBe(
      'pagedQuery.pageReturned=1&pagedQuery.returnLimit=5',
    );
    expect(requestsTo('/Workflow/Definitions')[0]?.rawQuery).toBe('query.pageReturned=1&query.returnLimit=5');
  });

  it('keep the fields Command sends and tolerate nulls and numeric Keys', async () => {
    sim.faults.add({
      match: { path: '/Workflow/Definitions' },
      action: {
        type: 'status',
        status: 200,
        body: JSON.stringify([
          { Id: 'a', DisplayName: null, Key: 7, WorkflowType: 'CertificateEnteredCollection', Extra: true },
          { Id: 'b', WorkflowType: 'Enrollment' },
        ]),
      },
    });
    expect(await client().listWorkflowDefinitions()).toEqual([
      { Id: 'a', DisplayName: '', Key: '7', WorkflowType: 'CertificateEnteredCollection', Extra: true },
      { Id: 'b', DisplayName: '', Key: '', WorkflowType: 'Enrollment' },
    ]);
  });

  it('refuse an object where a list belongs', async () => {
    sim.faults.add({
      match: { path: '/CertificateCollections' },
      action: { type: 'malformed', variant: 'wrong-shape' },
    });
    const error = await client()
      .listCollections()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandResponseError);
    expect((error as Error).message).toBe(
      'GET /CertificateCollections page 1 returned a JSON object instead of a list of collections',
    );
  });

  it('refuse an object of the wrong shape, naming it and the field', async () => {
    sim.faults.add({
      match: { path: '/Alerts/Expiration', page: 2 },
      action: {
        type: 'status',
        status: 200,
        body: JSON.stringify([{ Id: 6, DisplayName: 'x', CertificateQuery: { Id: 'six' } }]),
      },
    });
    const error = await client()
      .listExpirationAlerts()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandResponseError);
    expect((error as Error).message).toMatch(
      /^GET \/Alerts\/Expiration: expiration alert 6: CertificateQuery\.Id: /,
    );
  });

  it('refuse a list object without an Id', async () => {
    sim.faults.add({
      match: { path: '/CertificateCollections' },
      action: { type: 'status', status: 200, body: '[{"Name":"no id","Content":""}]' },
    });
    await expect(client().listCollections()).rejects.toThrow(
      /collection #1 of page 1: missing required field Id|collection #1 of page 1: Id: /,
    );
  });

  it('refuse a server that ignores the paging parameters', async () => {
    sim.faults.add({
      match: { path: '/CertificateCollections' },
      times: Infinity,
      action: {
        type: 'status',
        status: 200,
        body: JSON.stringify(collections.slice(0, 5).map(({ Id, Name, Content }) => ({ Id, Name, Content }))),
      },
    });
    await expect(client().listCollections()).rejects.toThrow(/same collections for pages 1 and 2/);
  });

  it('report a 403 as a permission error and retry a 503', async () => {
    sim.faults.add({ match: { path: '/Workflow/Definitions' }, action: { type: 'status', status: 403 } });
    await expect(client().listWorkflowDefinitions()).rejects.toBeInstanceOf(CommandPermissionError);
    // The hint names the object refused, not the certificate permission the scan needs.
    sim.faults.add({ match: { path: '/Workflow/Definitions' }, action: { type: 'status', status: 403 } });
    await expect(client().listWorkflowDefinitions()).rejects.toThrow(
      /read permission for \/Workflow\/Definitions .*actioned-certificate count/,
    );
    sim.faults.add({
      match: { path: '/Alerts/Expiration' },
      times: 1,
      action: { type: 'status', status: 503 },
    });
    expect(await client().listExpirationAlerts()).toHaveLength(12);
    sim.faults.add({
      match: { path: '/Alerts/Expiration' },
      times: 5,
      action: { type: 'status', status: 503 },
    });
    await expect(client().listExpirationAlerts()).rejects.toBeInstanceOf(CommandUnavailableError);
  });
});

describe('captureCommandContext', () => {
  it('returns the snapshot with only the model’s fields', async () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const snapshot = await captureCommandContext(client(), 'sensor-1', sim.url, 'scan-9', at);
    expect(Object.keys(snapshot).sort()).toEqual(
      [
        'capturedAt',
        'collections',
        'expirationAlerts',
        'scanId',
        'sensorKey',
        'url',
        'workflowDefinitions',
      ].sort(),
    );
    expect(snapshot).toMatchObject({
      sensorKey: 'sensor-1',
      url: sim.url,
      scanId: 'scan-9',
      capturedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(snapshot.collections).toEqual(collections.map(({ Id, Name, Content }) => ({ Id, Name, Content })));
    expect(snapshot.expirationAlerts).toEqual(
      alerts.map(({ Id, DisplayName, CertificateQuery }) => ({ Id, DisplayName, CertificateQuery })),
    );
    expect(snapshot.workflowDefinitions).toEqual(
      [...workflows]
        .sort((a, b) => a.DisplayName.localeCompare(b.DisplayName))
        .map(({ Id, DisplayName, Key, WorkflowType }) => ({ Id, DisplayName, Key, WorkflowType })),
    );
    // Nothing else Command sent (recipients, subjects, descriptions) is kept.
    expect(JSON.stringify(snapshot)).not.toMatch(/pki@example\.com|secret subject|description/);
  });

  it('fails when one of the lists cannot be read', async () => {
    sim.faults.add({ match: { path: '/CertificateCollections' }, action: { type: 'status', status: 403 } });
    await expect(captureCommandContext(client(), 's', sim.url, 'scan', NOW)).rejects.toBeInstanceOf(
      CommandPermissionError,
    );
  });
});

// Captures what Command says about a sensor beyond its certificates (collections, expiration alerts, workflow
// definitions) at scan time, when the collector holds the credentials; the daily count reads the snapshot later.
import type { CommandClient } from '#shared/keyfactor/index';
import type { CommandContextSnapshot } from './model.ts';

/**
 * Reads the three lists through the client (every page, its retries and auth) and keeps only the snapshot's fields,
 * so nothing else Command sends (alert recipients, message templates) is stored. Errors propagate to the caller.
 */
export async function captureCommandContext(
  client: CommandClient,
  sensorKey: string,
  url: string,
  scanId: string,
  now: Date,
): Promise<CommandContextSnapshot> {
  const [collections, alerts, workflows] = await Promise.all([
    client.listCollections(),
    client.listExpirationAlerts(),
    client.listWorkflowDefinitions(),
  ]);
  return {
    sensorKey,
    url,
    capturedAt: now.toISOString(),
    scanId,
    collections: collections.map((c) => ({ Id: c.Id, Name: c.Name, Content: c.Content })),
    expirationAlerts: alerts.map((a) => ({
      Id: a.Id,
      DisplayName: a.DisplayName,
      CertificateQuery:
        a.CertificateQuery === null ? null : { Id: a.CertificateQuery.Id, Name: a.CertificateQuery.Name },
    })),
    workflowDefinitions: workflows.map((w) => ({
      Id: w.Id,
      DisplayName: w.DisplayName,
      Key: w.Key,
      WorkflowType: w.WorkflowType,
    })),
  };
}

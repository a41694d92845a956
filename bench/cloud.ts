// The cloud path through the local driver (real handlers, moto, simulator, receiver) against the raw fetch of the
// same Command requests in the same run; then an incremental rescan after a few changes.
import { readFileSync } from 'node:fs';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { generateInventory } from '#shared/simulator/generator/index';
import { generateCertificatesParallel } from '#shared/simulator/generator/parallel';
import { startIngestionReceiver } from '#shared/simulator/ingestion-receiver';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { startSimulator } from '#shared/simulator/server';
import { startLocalDeployment } from '#test/support/local-driver';
import { startMoto } from '#test/support/moto';
import { BENCH_USER as USER, replayCertificateRequests } from './replay';
import { peakRssMiB, type Row } from './report';

const TOKEN = 'bench-ingestion-token';

function rssMiBOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const peak = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return peak ? Math.round(Number(peak) / 102.4) / 10 : 0;
}

export async function benchCloud(count: number): Promise<Row[]> {
  const moto = await startMoto();
  const certificates: CommandCertificate[] = [];
  for await (const c of generateCertificatesParallel({
    seed: 91,
    count,
    now: new Date(Date.now() - 3 * 86_400_000),
  }))
    certificates.push(c);
  const inventory = new SimulatorInventory({ certificates });
  const sim = await startSimulator({ inventory, auth: { basic: [USER] }, requestLogLimit: 100_000 });
  await sim.warmed;
  const receiver = await startIngestionReceiver({ token: TOKEN });
  const workers = 4;
  const cloud = await startLocalDeployment(moto.endpoint, {
    ingestionUrl: receiver.url,
    ingestionToken: TOKEN,
    concurrency: { pageNormal: workers, exporter: 4 },
  });
  const body = {
    sensorName: 'bench-cloud',
    sensorType: 'Keyfactor Command',
    sensorConfig: { url: sim.url, username: USER.username, password: USER.password, page_size: 1000 },
  };
  const runScan = async (callbackId: string) => {
    const fromSeq = sim.requestLog.entries().at(-1)?.seq ?? 0;
    const started = performance.now();
    const created = await cloud.call({
      method: 'POST',
      path: '/v3/scan/create',
      token: cloud.adminToken,
      json: { ...body, callbackId },
    });
    if (created.status !== 201)
      throw new Error(`scan create failed: ${created.status} ${JSON.stringify(created.body)}`);
    const scanId = (created.body as { scanId: string }).scanId;
    const driven = await cloud.drive({ timeoutMs: 3_600_000 });
    const seconds = (performance.now() - started) / 1000;
    const scan = (await cloud.call({ method: 'GET', path: `/v3/scans/${scanId}`, token: cloud.adminToken }))
      .body as {
      state: string;
      mode: string;
      counts: Record<string, number>;
    };
    if (!driven.drained || scan.state !== 'COMPLETED') throw new Error(`scan ${scanId} ended ${scan.state}`);
    const requests = sim.requestLog.entries().filter((e) => e.seq > fromSeq).length;
    return { seconds, scan, requests, fromSeq };
  };
  try {
    const full = await runScan('bench-full');
    const raw = await replayCertificateRequests(sim, full.fromSeq, workers);
    const existing = inventory.list();
    inventory.addNew(
      generateInventory({ seed: 92, count: 100, now: new Date(), includeCaCertificates: false }).map(
        ({ Id: _id, ...rest }) => rest,
      ),
    );
    for (const c of existing.slice(1000, 1100)) inventory.revoke(c.Id);
    const incremental = await runScan('bench-incremental');
    const row = (name: string, r: typeof full): Row => ({
      scan: name,
      mode: r.scan.mode,
      certificates: r.scan.counts.fetchedCertificates ?? 0,
      exported: r.scan.counts.exportedFindings ?? 0,
      'Command requests': r.requests,
      seconds: Number(r.seconds.toFixed(1)),
      'certs/s': Math.round((r.scan.counts.fetchedCertificates ?? 0) / r.seconds),
      'vs full (time)': Number((r.seconds / full.seconds).toFixed(3)),
      'vs full (requests)': Number((r.requests / full.requests).toFixed(3)),
    });
    return [
      {
        scan: `raw fetch of the full scan's ${raw.requests} requests (${workers} at a time)`,
        mode: '-',
        certificates: count,
        exported: 0,
        'Command requests': raw.requests,
        seconds: Number(raw.seconds.toFixed(1)),
        'certs/s': Math.round(count / raw.seconds),
        'vs full (time)': Number((raw.seconds / full.seconds).toFixed(3)),
        'vs full (requests)': 1,
      },
      row('full (local driver, moto)', full),
      row('incremental after 100 new + 100 revoked', incremental),
      {
        scan: `peak RSS MiB: bench process ${peakRssMiB()}, moto ${rssMiBOf(moto.pid)}`,
        mode: '',
        certificates: '',
        exported: receiver.findings.size,
        'Command requests': '',
        seconds: '',
        'certs/s': '',
        'vs full (time)': '',
        'vs full (requests)': '',
      },
    ];
  } finally {
    await Promise.all([sim.close(), receiver.stop()]);
    await moto.stop();
  }
}

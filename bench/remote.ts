// The remote scan (kfsensor -c) on the embedded SQLite state against the raw fetch of the same Command requests in
// the same run; then an incremental rescan after a few changes, as a fraction of the full scan.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '#shared/config/index';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { silentLogger } from '#shared/logging';
import { runRemoteScan } from '#shared/remote/run';
import { generateInventory } from '#shared/simulator/generator/index';
import { generateCertificatesParallel } from '#shared/simulator/generator/parallel';
import { SimulatorInventory } from '#shared/simulator/inventory';
import { startSimulator } from '#shared/simulator/server';
import { BENCH_USER as USER, replayCertificateRequests } from './replay';
import { peakRssMiB, type Row } from './report';

const CONCURRENCY = 4;

/** User + system CPU of the whole process (the in-process simulator included): steadier than wall time when the
 * machine's cores are shared with other work. */
function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

function configText(url: string, outDir: string): string {
  return `
scan_config:
  plugins: [keyfactor, local_export]
  config:
    keyfactor:
      name: keyfactor
      plugin_config:
        url: ${JSON.stringify(url)}
        username: ${USER.username}
        password: "\${env:COMMAND_PASSWORD}"
        page_size: 1000
        concurrency: ${CONCURRENCY}
    local_export:
      name: local_export
      plugin_config:
        output_dir: ${JSON.stringify(outDir)}
        formats: [jsonl, csv]
`;
}

export async function benchRemote(count: number): Promise<Row[]> {
  const certificates: CommandCertificate[] = [];
  const now = new Date(Date.now() - 3 * 86_400_000);
  for await (const c of generateCertificatesParallel({ seed: 93, count, now })) certificates.push(c);
  const inventory = new SimulatorInventory({ certificates });
  const sim = await startSimulator({ inventory, auth: { basic: [USER] }, requestLogLimit: 100_000 });
  await sim.warmed;
  const work = mkdtempSync(path.join(tmpdir(), 'kfsensor-bench-remote-'));
  const config = loadConfig(
    { text: configText(sim.url, path.join(work, 'out')), fileName: 'bench.yml' },
    { env: { COMMAND_PASSWORD: USER.password } },
  );
  const runScan = async () => {
    const fromSeq = sim.requestLog.entries().at(-1)?.seq ?? 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const outcome = await runRemoteScan(config, { stateDir: path.join(work, 'state'), logger: silentLogger });
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(process.cpuUsage(cpuBefore));
    if (outcome.exitCode !== 0 || !outcome.scan) throw new Error(`remote scan exited ${outcome.exitCode}`);
    const requests = sim.requestLog.entries().filter((e) => e.seq > fromSeq).length;
    return { seconds, cpu, scan: outcome.scan, requests, fromSeq };
  };
  try {
    const full = await runScan();
    const rssAfterFull = peakRssMiB();
    const rawCpuBefore = process.cpuUsage();
    const raw = await replayCertificateRequests(sim, full.fromSeq, CONCURRENCY);
    const rawCpu = cpuSeconds(process.cpuUsage(rawCpuBefore));
    const existing = inventory.list();
    inventory.addNew(
      generateInventory({ seed: 94, count: 100, now: new Date(), includeCaCertificates: false }).map(
        ({ Id: _id, ...rest }) => rest,
      ),
    );
    for (const c of existing.slice(1000, 1100)) inventory.revoke(c.Id);
    const incremental = await runScan();
    const row = (name: string, r: typeof full): Row => ({
      scan: name,
      mode: r.scan.mode ?? '',
      certificates: r.scan.counts.fetchedCertificates,
      'Command requests': r.requests,
      seconds: Number(r.seconds.toFixed(2)),
      'CPU s': Number(r.cpu.toFixed(2)),
      'certs/s': Math.round(r.scan.counts.fetchedCertificates / r.seconds),
      'vs raw fetch': Number((r.seconds / raw.seconds).toFixed(2)),
      'vs full (time)': Number((r.seconds / full.seconds).toFixed(4)),
      'vs full (requests)': Number((r.requests / full.requests).toFixed(4)),
    });
    return [
      {
        scan: `raw fetch of the full scan's requests (${CONCURRENCY} at a time)`,
        mode: '-',
        certificates: count,
        'Command requests': raw.requests,
        seconds: Number(raw.seconds.toFixed(2)),
        'CPU s': Number(rawCpu.toFixed(2)),
        'certs/s': Math.round(count / raw.seconds),
        'vs raw fetch': 1,
        'vs full (time)': Number((raw.seconds / full.seconds).toFixed(4)),
        'vs full (requests)': 1,
      },
      row('full (kfsensor -c, SQLite state, local_export jsonl+csv)', full),
      row('incremental after 100 new + 100 revoked', incremental),
      {
        scan: `peak RSS of the process after the full scan: ${rssAfterFull} MiB`,
        mode: '',
        certificates: '',
        'Command requests': '',
        seconds: '',
        'CPU s': '',
        'certs/s': '',
        'vs raw fetch': '',
        'vs full (time)': '',
        'vs full (requests)': '',
      },
    ];
  } finally {
    await sim.close();
    rmSync(work, { recursive: true, force: true });
  }
}

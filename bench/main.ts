// npm run bench: every benchmark section, each against a baseline measured in the same run (the machines are shared).
import { cpus } from 'node:os';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { generateInventory, measureGenerationRate } from '#shared/simulator/generator/index';
import { measureParallelGenerationRate } from '#shared/simulator/generator/parallel';
import { benchApiKeys } from './apikeys';
import { benchClient } from './client';
import { benchCloud } from './cloud';
import { benchRemote } from './remote';
import { benchFindings } from './findings';
import { benchLicense } from './license';
import { benchX509 } from './x509';
import { peakRssMiB, printTable, type Row } from './report';

const NOW = new Date('2026-01-01T00:00:00Z');

interface Section {
  name: string;
  run(): Promise<Row[]>;
}

function sections(scale: number): Section[] {
  let inventory: CommandCertificate[] | undefined;
  const clientInventory = () =>
    (inventory ??= generateInventory({ seed: 3, count: 20_000 * scale, now: NOW }));
  return [
    {
      name: 'simulator: certificate generation',
      run: async () => {
        const sequential = measureGenerationRate({ seed: 1, count: 5_000 * scale, now: NOW });
        const parallel = await measureParallelGenerationRate({ seed: 1, count: 100_000 * scale, now: NOW });
        return [
          {
            mode: 'sequential (1 thread)',
            certificates: sequential.count,
            seconds: Number(sequential.seconds.toFixed(2)),
            'certs/s': Math.round(sequential.certificatesPerSecond),
          },
          {
            mode: `parallel (${cpus().length} workers)`,
            certificates: parallel.count,
            seconds: Number(parallel.seconds.toFixed(2)),
            'certs/s': Math.round(parallel.certificatesPerSecond),
          },
        ];
      },
    },
    {
      name: 'x509: certificate reader on the system CA bundle vs node:crypto and @peculiar/x509',
      run: () => benchX509({ streamedParses: 1_000_000 * scale }),
    },
    {
      name: 'findings: analyseCertificate (parse + finding + rules) on generated certificates',
      run: () => benchFindings(),
    },
    {
      name: 'api keys: authenticate() per request, uncached (lookup + scrypt) vs cached',
      run: () => benchApiKeys(),
    },
    {
      name: `license: actioned-certificate count over ${20_000 * scale} stored findings, usage log`,
      run: () => benchLicense(20_000 * scale),
    },
    {
      name: `client: paging ${20_000 * scale} certificates from the simulator (1,000 per page, loopback)`,
      run: () => benchClient(clientInventory()),
    },
    {
      name: `cloud: ${100_000 * scale} certificates through the local driver (real handlers on moto) vs raw fetch`,
      run: () => benchCloud(100_000 * scale),
    },
    {
      name: `remote: ${100_000 * scale} certificates with kfsensor -c (SQLite state) vs raw fetch`,
      run: () => benchRemote(100_000 * scale),
    },
  ];
}

export async function main(args: string[]): Promise<number> {
  const only = args.find((a) => !a.startsWith('-'));
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  console.log(
    `# keyfactor-command-sensor benchmarks (node ${process.version}, ${cpus().length} cores, scale ${scale})`,
  );
  for (const section of sections(scale)) {
    if (only && !section.name.includes(only)) continue;
    const started = performance.now();
    const rows = await section.run();
    printTable(`${section.name}  [${((performance.now() - started) / 1000).toFixed(1)} s]`, rows);
  }
  console.log(`\npeak RSS of the benchmark process: ${peakRssMiB()} MiB`);
  return 0;
}

// Findings benchmark: µs per certificate for analyseCertificate against the bare reader in the same run, and peak RSS
// while streaming a million analyses (which must stay flat: nothing may accumulate per certificate).
import { analyseCertificate } from '#shared/findings/index';
import type { AnalysisContext } from '#shared/findings/index';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { generateInventory } from '#shared/simulator/generator/index';
import { decodeBase64Der, tryParseCertificate } from '#shared/x509/index';

const NOW = new Date('2026-01-01T00:00:00Z');

const CONTEXT: AnalysisContext = {
  now: NOW,
  sensor: { name: 'bench', version: '0.1.0', ranBy: 'bench' },
  source: { url: 'https://command.example.com/KeyfactorAPI' },
  labels: [{ name: 'environment', value: 'bench' }],
};

export interface FindingsBenchOptions {
  /** Distinct generated certificates timed one by one. Default 20,000. */
  certificates?: number;
  /** Analyses streamed for the memory check. Default 1,000,000. */
  stream?: number;
}

type Row = Record<string, string | number>;

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

// Results go through a sink so the engine's work cannot be optimised away.
let sink = 0;

/** Times `work` once per certificate (after one warm-up pass over the whole set). */
function timeEach(
  name: string,
  inventory: readonly CommandCertificate[],
  work: (c: CommandCertificate) => number,
): Row {
  for (const certificate of inventory) sink += work(certificate);
  const samples = new Float64Array(inventory.length);
  const started = process.hrtime.bigint();
  for (let index = 0; index < inventory.length; index++) {
    const certificate = inventory[index] as CommandCertificate;
    const before = process.hrtime.bigint();
    sink += work(certificate);
    samples[index] = Number(process.hrtime.bigint() - before) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  samples.sort();
  let total = 0;
  for (const sample of samples) total += sample;
  return {
    stage: name,
    certificates: inventory.length,
    'median µs': round(percentile(samples, 0.5)),
    'p95 µs': round(percentile(samples, 0.95)),
    'mean µs': round(total / samples.length),
    'certs/s': Math.round(inventory.length / seconds),
    'peak RSS KiB': '',
  };
}

function parseOnly(certificate: CommandCertificate): number {
  const decoded = decodeBase64Der(certificate.ContentBytes);
  if (!decoded.ok) return 0;
  const parsed = tryParseCertificate(decoded.der);
  return parsed.ok ? parsed.certificate.derLength : 0;
}

function analyse(certificate: CommandCertificate): number {
  return analyseCertificate(certificate, CONTEXT).analysis.rules.length;
}

export async function benchFindings(options: FindingsBenchOptions = {}): Promise<Row[]> {
  const count = options.certificates ?? 20_000;
  const stream = options.stream ?? 1_000_000;
  const inventory = generateInventory({ seed: 11, count, now: NOW });
  const rows: Row[] = [
    timeEach('decode + parse only (baseline)', inventory, parseOnly),
    timeEach('analyseCertificate (parse + finding + rules)', inventory, analyse),
  ];
  // Streaming: findings are dropped at once, as a page worker does after writing them.
  const checkpoints = new Set([Math.min(100_000, stream), stream]);
  const started = process.hrtime.bigint();
  for (let done = 1; done <= stream; done++) {
    sink += analyse(inventory[done % inventory.length] as CommandCertificate);
    if (checkpoints.has(done)) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rows.push({
        stage: `stream: peak RSS after ${done.toLocaleString('en-US')} analyses`,
        certificates: done,
        'median µs': '',
        'p95 µs': '',
        'mean µs': round((seconds * 1e6) / done),
        'certs/s': Math.round(done / seconds),
        'peak RSS KiB': process.resourceUsage().maxRSS,
      });
      // Yield so a long stream does not starve timers or signal handlers of the benchmark process.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (sink === -1) console.log('unreachable');
  return rows;
}

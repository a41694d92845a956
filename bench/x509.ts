// Certificate reader benchmark: per-certificate cost on the system CA bundle against node:crypto and @peculiar/x509
// measured in the same run, plus a million streamed parses to show memory stays flat.
// @peculiar/x509's tsyringe dependency needs the Reflect metadata API.
import 'reflect-metadata';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCertificate, pemToDers } from '#shared/x509/index';
import type { Row } from './report';
import { arrayBufferView } from '#shared/bytes';

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

interface Timing {
  medianUs: number;
  p95Us: number;
  certsPerSecond: number;
}

/** Times each call separately (after a warm-up), `rounds` passes over the bundle; returns per-certificate figures. */
function timePerCertificate(
  ders: readonly Uint8Array[],
  rounds: number,
  work: (der: Uint8Array) => unknown,
): Timing {
  let sink = 0;
  const warmUp = Math.max(1, Math.ceil(2000 / ders.length));
  for (let round = 0; round < warmUp; round++) for (const der of ders) sink += work(der) ? 1 : 0;
  const samples = new Float64Array(ders.length * rounds);
  let index = 0;
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    for (const der of ders) {
      const before = process.hrtime.bigint();
      sink += work(der) ? 1 : 0;
      samples[index++] = Number(process.hrtime.bigint() - before) / 1000;
    }
  }
  const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink < 0) console.log(sink);
  samples.sort();
  return {
    medianUs: samples[Math.floor(samples.length / 2)] ?? 0,
    p95Us: samples[Math.floor(samples.length * 0.95)] ?? 0,
    certsPerSecond: samples.length / totalSeconds,
  };
}

function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Reads every field a finding uses, so lazy work (if any) is paid inside the timing. */
function readEverything(der: Uint8Array): number {
  const certificate = parseCertificate(der);
  return (
    certificate.sha1.length +
    certificate.sha256.length +
    certificate.subject.rfc4514.length +
    certificate.issuer.rfc4514.length +
    certificate.extensions.length +
    (certificate.subjectAltNames?.length ?? 0) +
    (certificate.publicKey.keySizeBits ?? 0) +
    certificate.notAfter.length
  );
}

function mib(kibibytes: number): number {
  return round(kibibytes / 1024);
}

/**
 * Streams `parses` parses cycling the bundle, keeping nothing, sampling peak RSS at ten checkpoints. The first sample
 * follows a 100,000-parse warm-up, by which time V8's heap has grown to its working size.
 */
function streamParses(ders: readonly Uint8Array[], parses: number): { seconds: number; rssMiB: number[] } {
  const checkpoints = 10;
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += readEverything(ders[i % ders.length] as Uint8Array);
  const rssMiB: number[] = [mib(process.resourceUsage().maxRSS)];
  const started = process.hrtime.bigint();
  for (let i = 0; i < parses; i++) {
    sink += readEverything(ders[i % ders.length] as Uint8Array);
    if ((i + 1) % Math.ceil(parses / checkpoints) === 0) rssMiB.push(mib(process.resourceUsage().maxRSS));
  }
  if (sink < 0) console.log(sink);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, rssMiB };
}

export async function benchX509(options: { streamedParses?: number } = {}): Promise<Row[]> {
  const ders = pemToDers(readFileSync(CA_BUNDLE));
  // The stream runs first, so the peak RSS it reports is its own and not the baselines'.
  const parses = options.streamedParses ?? 1_000_000;
  const stream = streamParses(ders, parses);
  const first = stream.rssMiB[0] ?? 0;
  const last = stream.rssMiB[stream.rssMiB.length - 1] ?? 0;

  const peculiar = await import('@peculiar/x509');

  const reader = timePerCertificate(ders, 200, readEverything);
  const withSelfSignature = timePerCertificate(ders, 20, (der) => parseCertificate(der).selfSigned);
  const node = timePerCertificate(ders, 50, (der) => new NodeX509Certificate(der));
  const full = timePerCertificate(ders, 5, (der) => {
    const certificate = new peculiar.X509Certificate(arrayBufferView(der));
    return (
      certificate.subject.length +
      certificate.issuer.length +
      certificate.extensions.length +
      certificate.serialNumber.length
    );
  });

  const row = (name: string, timing: Timing, note: string): Row => ({
    name,
    'median µs/cert': round(timing.medianUs),
    'p95 µs/cert': round(timing.p95Us),
    'certs/s': Math.round(timing.certsPerSecond),
    'x faster than node X509Certificate': round(node.medianUs / timing.medianUs, 2),
    'x faster than @peculiar/x509': round(full.medianUs / timing.medianUs, 2),
    note,
  });

  return [
    row(
      'x509 reader: every field + SHA-1/SHA-256',
      reader,
      `${ders.length} CA bundle certificates, 200 rounds`,
    ),
    row(
      'x509 reader + selfSigned (signature verified)',
      withSelfSignature,
      'lazy; every bundle certificate is self-issued',
    ),
    row('node:crypto new X509Certificate(der)', node, 'baseline'),
    row('@peculiar/x509 new X509Certificate(der) + fields', full, 'baseline'),
    {
      name: `x509 reader: ${parses.toLocaleString('en-US')} streamed parses`,
      'median µs/cert': round((stream.seconds * 1e6) / parses),
      'p95 µs/cert': '',
      'certs/s': Math.round(parses / stream.seconds),
      'x faster than node X509Certificate': '',
      'x faster than @peculiar/x509': '',
      note: `peak RSS ${first} MiB after warm-up, ${last} MiB after the last parse (every 10%: ${stream.rssMiB.join(', ')})`,
    },
  ];
}

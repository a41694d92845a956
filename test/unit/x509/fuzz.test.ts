// Fuzzing: mutated real certificates, random DER trees and random bytes either parse or fail with CertificateParseError,
// quickly, and whatever parses can be serialised (which runs the lazy self-signature check too).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CertificateParseError, parseCertificate, pemToDers } from '#shared/x509/index';
import { craftedCorpus } from '#test/fixtures/x509/crafted';

/** Longest a single parse may take; typical parses take tens of microseconds. */
const TIME_BOUND_MS = 100;

const seeds: Uint8Array[] = [
  ...pemToDers(readFileSync('/etc/ssl/certs/ca-certificates.crt')).filter((_, index) => index % 12 === 0),
  ...pemToDers(readFileSync(new URL('../../fixtures/x509/openssl-corpus.pem', import.meta.url))).filter(
    (_, index) => index % 6 === 0,
  ),
  ...craftedCorpus()
    .filter((_, index) => index % 3 === 0)
    .map((sample) => sample.der),
];

/** Offsets of every length byte in the DER tree (walked without the reader under test). */
function lengthOffsets(der: Uint8Array): number[] {
  const offsets: number[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let pos = start;
    while (pos + 1 < end && depth < 12) {
      const tag = der[pos] ?? 0;
      let length = der[pos + 1] ?? 0;
      let content = pos + 2;
      offsets.push(pos + 1);
      if (length & 0x80) {
        const octets = length & 0x7f;
        if (octets === 0 || octets > 4) return;
        length = 0;
        for (let i = 0; i < octets; i++) length = length * 256 + (der[content + i] ?? 0);
        content += octets;
      }
      if (content + length > end) return;
      if (tag & 0x20 || tag === 0x04 || tag === 0x03)
        walk(tag === 0x03 ? content + 1 : content, content + length, depth + 1);
      pos = content + length;
    }
  };
  walk(0, der.length, 0);
  return offsets;
}

const seedLengthOffsets = seeds.map(lengthOffsets);

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; header: number; bytes: readonly number[] };

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('length' as const),
    header: fc.nat(),
    bytes: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 0x7f })).map((value) => [...value]),
      fc.constant([0x80]),
      fc.constant([0xff]),
      fc
        .tuple(fc.integer({ min: 0x81, max: 0x84 }), fc.uint8Array({ minLength: 4, maxLength: 4 }))
        .map(([head, rest]) => [head, ...rest.subarray(0, head - 0x80)]),
      fc.constant([0x84, 0xff, 0xff, 0xff, 0xff]),
      fc.constant([0x85, 0, 0, 0, 0, 1]),
    ),
  }),
);

function mutate(seedIndex: number, mutations: Mutation[]): Uint8Array {
  let der = Buffer.from(seeds[seedIndex] ?? []);
  const offsets = seedLengthOffsets[seedIndex] ?? [];
  for (const mutation of mutations) {
    const at = der.length === 0 ? 0 : ('at' in mutation ? mutation.at : 0) % der.length;
    switch (mutation.kind) {
      case 'flip':
        if (der.length) der[at] = (der[at] ?? 0) ^ (1 << mutation.bit);
        break;
      case 'set':
        if (der.length) der[at] = mutation.value;
        break;
      case 'insert':
        der = Buffer.concat([der.subarray(0, at), mutation.bytes, der.subarray(at)]);
        break;
      case 'delete':
        der = Buffer.concat([der.subarray(0, at), der.subarray(at + mutation.count)]);
        break;
      case 'truncate':
        der = der.subarray(0, at);
        break;
      case 'length': {
        const offset = offsets.length ? (offsets[mutation.header % offsets.length] ?? 0) : 0;
        if (offset >= der.length) break;
        const first = der[offset] ?? 0;
        const oldLengthBytes = first & 0x80 ? 1 + (first & 0x7f) : 1;
        der = Buffer.concat([
          der.subarray(0, offset),
          Buffer.from(mutation.bytes),
          der.subarray(offset + oldLengthBytes),
        ]);
        break;
      }
    }
  }
  return der;
}

/** A random DER tree: constructed nodes hold children, primitive ones random content. */
const treeArbitrary: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(
        fc.constantFrom(
          0x02,
          0x03,
          0x04,
          0x05,
          0x06,
          0x0c,
          0x13,
          0x17,
          0x18,
          0x1e,
          0x80,
          0x81,
          0x82,
          0x86,
          0x87,
        ),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([tag, content]) => encode(tag, content)),
    fc
      .tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa3, 0xa4), fc.array(tie('node'), { maxLength: 5 }))
      .map(([tag, children]) => encode(tag, Buffer.concat(children))),
  ),
})).node;

function encode(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length;
  const header =
    length < 0x80
      ? [tag, length]
      : length < 0x100
        ? [tag, 0x81, length]
        : [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

/**
 * Independent structural check: the input is one element, and every constructed element (outside OCTET and BIT
 * STRING contents) is exactly filled by its children. Whatever the reader accepts must pass it.
 */
function isWellFormed(der: Uint8Array): boolean {
  const element = (pos: number, end: number): number => {
    if (pos + 2 > end) return -1;
    const tag = der[pos] ?? 0;
    let length = der[pos + 1] ?? 0;
    let content = pos + 2;
    if (length & 0x80) {
      const octets = length & 0x7f;
      if (octets === 0 || octets > 4 || content + octets > end) return -1;
      length = 0;
      for (let i = 0; i < octets; i++) length = length * 256 + (der[content + i] ?? 0);
      content += octets;
    }
    const elementEnd = content + length;
    if (elementEnd > end) return -1;
    if (tag & 0x20) {
      let child = content;
      while (child < elementEnd) {
        child = element(child, elementEnd);
        if (child < 0) return -1;
      }
    }
    return elementEnd;
  };
  return element(0, der.length) === der.length;
}

interface Outcome {
  parsed: number;
  rejected: number;
  slowestMs: number;
}

function timeParse(der: Uint8Array): number {
  const started = performance.now();
  try {
    JSON.stringify(parseCertificate(der));
  } catch {
    // rejected inputs are timed too
  }
  return performance.now() - started;
}

function check(der: Uint8Array, outcome: Outcome): void {
  const started = performance.now();
  try {
    const certificate = parseCertificate(der);
    // Serialising reads every field, the lazy self-signature check included.
    JSON.stringify(certificate);
    if (!isWellFormed(der)) throw new Error(`accepted malformed DER ${Buffer.from(der).toString('hex')}`);
    if (certificate.derLength !== der.length) throw new Error('derLength is not the input length');
    outcome.parsed++;
  } catch (error) {
    if (!(error instanceof CertificateParseError)) {
      throw new Error(
        `not a CertificateParseError for ${Buffer.from(der).toString('hex')}: ${String(error)}`,
        { cause: error },
      );
    }
    outcome.rejected++;
  }
  let elapsed = performance.now() - started;
  // A pathological input is slow every time; a GC pause or a busy machine is not: re-time before failing.
  for (let retry = 0; retry < 3 && elapsed > TIME_BOUND_MS; retry++)
    elapsed = Math.min(elapsed, timeParse(der));
  outcome.slowestMs = Math.max(outcome.slowestMs, elapsed);
  if (elapsed > TIME_BOUND_MS)
    throw new Error(`parse took ${elapsed.toFixed(1)} ms for ${Buffer.from(der).toString('hex')}`);
}

describe('fuzzing the certificate reader', () => {
  it('survives mutated real certificates', () => {
    const outcome: Outcome = { parsed: 0, rejected: 0, slowestMs: 0 };
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 }),
        (seed, mutations) => {
          check(mutate(seed, mutations), outcome);
        },
      ),
      { numRuns: 30_000, seed: 5280 },
    );
    // Both outcomes occur, so the mutations reach deep into certificates rather than only breaking the header.
    expect(outcome.parsed).toBeGreaterThan(1000);
    expect(outcome.rejected).toBeGreaterThan(10_000);
    expect(outcome.slowestMs).toBeLessThan(TIME_BOUND_MS);
  });

  it('survives random DER trees and random bytes', () => {
    const outcome: Outcome = { parsed: 0, rejected: 0, slowestMs: 0 };
    fc.assert(
      fc.property(treeArbitrary, (tree) => check(encode(0x30, tree), outcome)),
      { numRuns: 5000, seed: 4514 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => check(bytes, outcome)),
      { numRuns: 5000, seed: 2253 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 2048 }), (bytes) => {
        const framed = Buffer.from(bytes);
        framed[0] = 0x30;
        framed[1] = 0x82;
        framed[2] = (bytes.length - 4) >> 8;
        framed[3] = (bytes.length - 4) & 0xff;
        check(framed, outcome);
      }),
      { numRuns: 5000, seed: 3279 },
    );
    expect(outcome.rejected).toBe(15_000);
  });
});

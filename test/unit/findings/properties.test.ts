// Property tests: whatever bytes or text arrive as ContentBytes (mutated real certificates, random bytes, random
// strings), the engine returns a schema-valid finding, identified by the right hash, and never throws.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseCertificate } from '#shared/findings/index';
import type { Finding } from '#shared/findings/index';
import { commandCertificate } from '#test/support/findings/craft';
import { TEST_CONTEXT, analyseChecked, analyseDerChecked } from '#test/support/findings/harness';
import { generateSimulatedCertificates } from '#shared/simulator/generator/index';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

// CA certificates first, then a spread of leaf keys, signatures and profiles.
const realDers: Buffer[] = Array.from(
  generateSimulatedCertificates({ seed: 77, count: 120, now: new Date('2026-01-01T00:00:00Z') }),
  (generated) => generated.der,
);

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number };

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(der: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(der);
  for (const mutation of mutations) {
    if (bytes.length === 0) break;
    const at = mutation.at % bytes.length;
    switch (mutation.kind) {
      case 'flip':
        bytes[at] = (bytes[at] ?? 0) ^ (1 << mutation.bit);
        break;
      case 'set':
        bytes[at] = mutation.value;
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + mutation.length)]);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), mutation.bytes, bytes.subarray(at)]);
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
    }
  }
  return bytes;
}

function expectConsistent(finding: Finding, bytes: Uint8Array): void {
  // The identity is always the DER's hash when there are bytes; status and sections agree with each other.
  expect(finding.id).toBe(sha256(bytes));
  if (finding.analysis.status === 'analysed') {
    expect(finding.crypto.x509.fingerprints?.sha256).toBe(finding.id);
    expect(finding.analysis.parse_error).toBeUndefined();
  } else {
    expect(finding.analysis.parse_error?.message.length).toBeGreaterThan(0);
    expect(finding.analysis.rules.map((rule) => rule.id)).toContain('KFS-PARSE-001');
  }
}

describe('analyseCertificate on hostile ContentBytes', () => {
  it('returns a schema-valid finding for mutated real certificates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: realDers.length - 1 }),
        fc.array(mutationArbitrary, { minLength: 1, maxLength: 4 }),
        (index, mutations) => {
          const bytes = mutate(realDers[index] as Buffer, mutations);
          const finding = analyseChecked(commandCertificate(bytes));
          if (bytes.length > 0) expectConsistent(finding, bytes);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('returns a schema-valid finding for random bytes, with or without a SEQUENCE header', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.boolean(),
        (random, sequenceHeader) => {
          const bytes = Buffer.from(random);
          if (sequenceHeader) bytes[0] = 0x30;
          expectConsistent(analyseChecked(commandCertificate(bytes)), bytes);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('returns a schema-valid finding for arbitrary text, identified by the text when it is not base64', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String()), (text) => {
        const finding = analyseChecked(commandCertificate(text));
        if (finding.analysis.parse_error?.reason === 'invalid-base64') expect(finding.id).toBe(sha256(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('is deterministic: the same input gives the same finding', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: realDers.length - 1 }),
        fc.array(mutationArbitrary, { maxLength: 2 }),
        (index, mutations) => {
          const certificate = commandCertificate(mutate(realDers[index] as Buffer, mutations));
          expect(analyseCertificate(certificate, TEST_CONTEXT)).toEqual(
            analyseCertificate(certificate, TEST_CONTEXT),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('analyseDer on hostile bytes', () => {
  it('returns a schema-valid file finding for mutated real certificates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: realDers.length - 1 }),
        fc.array(mutationArbitrary, { minLength: 1, maxLength: 3 }),
        (index, mutations) => {
          const bytes = mutate(realDers[index] as Buffer, mutations);
          const finding = analyseDerChecked(bytes);
          expect(finding.observation.source.type).toBe('file');
          expectConsistent(finding, bytes);
        },
      ),
      { numRuns: 800 },
    );
  });
});

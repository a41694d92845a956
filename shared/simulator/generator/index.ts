// Public API of the Command simulator's data generator: a lazy, seeded, reproducible certificate inventory.
import type { CommandCertificate } from '#shared/keyfactor/model';
import { toCommandCertificate } from './command';
import type { CommandFormat } from './command';
import { STORE_TYPES } from './catalog';
import { getHierarchy } from './hierarchy';
import type { CertificateAuthority, Hierarchy } from './hierarchy';
import { generateLeaf, thumbprintOf } from './leaf';
import type { CertificateTraits, InventoryFacts } from './leaf';
import { GeneratorOptionsError, resolveMix } from './mix';
import type { GeneratorMix, MixOverrides } from './mix';
import { Prng } from './prng';
import { DAY_MS } from './validity';

export { DEFAULT_MIX, GeneratorOptionsError, resolveMix } from './mix';
export type { GeneratorMix, IssuedSignatureKind, MixOverrides, ProfileKind, ValidityKind } from './mix';
export type { LeafKeyKind, SignatureKind } from './algorithms';
export type { CertificateTraits } from './leaf';
export { commandValueHash } from './command';

/** The instant the generator pretends it is when the caller does not say; fixed so output is reproducible. */
export const DEFAULT_NOW = new Date('2026-01-01T00:00:00.000Z');
export const DEFAULT_IMPORT_WINDOW_DAYS = 90;

export interface GenerateOptions {
  seed: number;
  /** Number of certificates yielded, CA certificates included (they come first). */
  count: number;
  /** Overrides of DEFAULT_MIX; accepts any Partial<GeneratorMix>. */
  mix?: MixOverrides;
  /** Validity categories (expired, not yet valid...) are relative to this instant. Default DEFAULT_NOW. */
  now?: Date;
  /** Id of the first certificate; Ids then increase by one, in ImportDate order. Default 1. */
  startId?: number;
  /** Put the 8 CA certificates (CertState 6) first. Default true; turn off when appending a batch. */
  includeCaCertificates?: boolean;
  /** ImportDates are spread evenly (and non-decreasing) over this window. Default the 90 days before `now`. */
  importWindow?: { from: Date; to: Date };
  /** Separator between RDNs in IssuedDN / IssuerDN. Default ", " (see docs/simulator-dataset.md). */
  dnSeparator?: string;
}

export interface GeneratedCertificate {
  certificate: CommandCertificate;
  der: Buffer;
  traits: CertificateTraits;
}

export interface SimulatedCaCertificate {
  label: string;
  commonName: string;
  parentLabel: string | null;
  der: Buffer;
}

/** The fixed CA hierarchy (roots first): for chain downloads and for checking leaf signatures. */
export function simulatedCaCertificates(): SimulatedCaCertificate[] {
  return getHierarchy().authorities.map((authority) => ({
    label: authority.label,
    commonName: authority.commonName,
    parentLabel: authority.parent?.label ?? null,
    der: authority.certificate.der,
  }));
}

interface ResolvedOptions {
  seedParts: [number, number];
  count: number;
  mix: GeneratorMix;
  now: number;
  startId: number;
  includeCaCertificates: boolean;
  windowFrom: number;
  windowTo: number;
  format: CommandFormat;
}

function resolveOptions(options: GenerateOptions, hierarchy: Hierarchy): ResolvedOptions {
  const { seed, count } = options;
  if (!Number.isSafeInteger(seed))
    throw new GeneratorOptionsError(`seed must be a safe integer, got ${String(seed)}`);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new GeneratorOptionsError(`count must be a non-negative integer, got ${String(count)}`);
  }
  const startId = options.startId ?? 1;
  if (!Number.isSafeInteger(startId) || startId < 0 || startId + count > 0x7fffffff) {
    throw new GeneratorOptionsError(
      `startId must be a non-negative integer and Ids must fit in int32, got ${String(startId)}`,
    );
  }
  const now = (options.now ?? DEFAULT_NOW).getTime();
  if (!Number.isFinite(now)) throw new GeneratorOptionsError('now is not a valid date');
  const windowFrom = options.importWindow?.from.getTime() ?? now - DEFAULT_IMPORT_WINDOW_DAYS * DAY_MS;
  const windowTo = options.importWindow?.to.getTime() ?? now;
  if (!Number.isFinite(windowFrom) || !Number.isFinite(windowTo) || windowFrom > windowTo || windowTo > now) {
    throw new GeneratorOptionsError('importWindow must satisfy from <= to <= now');
  }
  const crlRowIds = new Map(
    hierarchy.authorities.map((authority): [string, number] => [authority.crlUrl, authority.crlRowId]),
  );
  return {
    // Two 32-bit halves so every safe-integer seed gives its own stream.
    seedParts: [seed >>> 0, Math.floor(seed / 4294967296) | 0],
    count,
    mix: resolveMix(options.mix),
    now,
    startId,
    includeCaCertificates: options.includeCaCertificates ?? true,
    windowFrom,
    windowTo,
    format: { dnSeparator: options.dnSeparator ?? ', ', crlRowIds },
  };
}

const STORE_TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  STORE_TYPES.map((type) => [type.id, type.shortName]),
);

function caInventory(authority: CertificateAuthority, id: number, importDate: number): InventoryFacts {
  return {
    id,
    importDate: new Date(importDate),
    certState: 6,
    revocation: null,
    authority: null,
    request: null,
    hasPrivateKey: false,
    archivedKey: false,
    principalName: null,
    ownerRole: null,
    metadata: {},
    locations: [],
    sslLocations: [],
  };
}

function* generate(
  options: ResolvedOptions,
  hierarchy: Hierarchy,
  fromIndex: number,
  toIndex: number,
): Generator<GeneratedCertificate> {
  const { count, startId, windowFrom, windowTo } = options;
  const slot = count > 0 ? (windowTo - windowFrom) / count : 0;
  const caCount = options.includeCaCertificates ? Math.min(count, hierarchy.authorities.length) : 0;
  const context = { mix: options.mix, hierarchy, now: options.now };
  for (let index = fromIndex; index < toIndex; index++) {
    const id = startId + index;
    const prng = new Prng(options.seedParts[0], options.seedParts[1], id);
    // Each certificate owns a slice of the window, so ImportDate never decreases while Id increases.
    const importDate = Math.floor(windowFrom + (index + (index < caCount ? 0.5 : prng.float())) * slot);
    if (index < caCount) {
      const authority = hierarchy.authorities[index];
      if (!authority) throw new Error('unreachable: CA index out of range');
      const facts = authority.certificate;
      yield {
        der: facts.der,
        certificate: toCommandCertificate(
          facts,
          caInventory(authority, id, importDate),
          thumbprintOf(facts.der),
          options.format,
          STORE_TYPE_NAMES,
        ),
        traits: {
          role: authority.parent ? 'intermediate' : 'root',
          issuerLabel: authority.parent?.label ?? null,
          label: authority.label,
          selfSigned: authority.parent === null,
          validity: null,
          profile: null,
          leafKey: null,
          signature: facts.signature.kind,
          requested: false,
          revoked: false,
        },
      };
      continue;
    }
    const leaf = generateLeaf(context, prng, id, importDate);
    yield {
      der: leaf.facts.der,
      certificate: toCommandCertificate(
        leaf.facts,
        leaf.inventory,
        leaf.thumbprint,
        options.format,
        STORE_TYPE_NAMES,
      ),
      traits: leaf.traits,
    };
  }
}

/**
 * Certificates with the generator's own view of each (traits) and the raw DER. Lazy: iterate to generate; every
 * iteration regenerates the same sequence. Throws GeneratorOptionsError for bad options before yielding anything.
 */
export function generateSimulatedCertificates(options: GenerateOptions): Iterable<GeneratedCertificate> {
  const hierarchy = getHierarchy();
  const resolved = resolveOptions(options, hierarchy);
  return { [Symbol.iterator]: () => generate(resolved, hierarchy, 0, resolved.count) };
}

/**
 * JSONL text (one object per line, each line ending in "\n") for certificates [fromIndex, toIndex) of the inventory
 * `options` describes. Certificate N depends only on the options and N, which is what lets workers split the work.
 */
export function generateJsonLines(options: GenerateOptions, fromIndex: number, toIndex: number): string {
  const hierarchy = getHierarchy();
  const resolved = resolveOptions(options, hierarchy);
  let text = '';
  for (const generated of generate(
    resolved,
    hierarchy,
    Math.max(0, fromIndex),
    Math.min(toIndex, resolved.count),
  )) {
    text += `${JSON.stringify(generated.certificate)}\n`;
  }
  return text;
}

/** Validates options without generating anything; throws GeneratorOptionsError. */
export function checkGenerateOptions(options: GenerateOptions): void {
  resolveOptions(options, getHierarchy());
}

/** Command certificate objects, lazily: safe for a million certificates if consumed as a stream. */
export function generateCertificates(options: GenerateOptions): Iterable<CommandCertificate> {
  const source = generateSimulatedCertificates(options);
  return {
    *[Symbol.iterator]() {
      for (const generated of source) yield generated.certificate;
    },
  };
}

export function generateInventory(options: GenerateOptions): CommandCertificate[] {
  return Array.from(generateCertificates(options));
}

export interface GenerationRate {
  count: number;
  seconds: number;
  certificatesPerSecond: number;
}

/** Generates and discards `count` certificates (CA hierarchy built beforehand, so it is not timed). */
export function measureGenerationRate(options: GenerateOptions): GenerationRate {
  getHierarchy();
  const started = process.hrtime.bigint();
  let generated = 0;
  for (const certificate of generateCertificates(options)) {
    if (certificate.Id >= 0) generated++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { count: generated, seconds, certificatesPerSecond: seconds > 0 ? generated / seconds : Infinity };
}

// CycloneDX 1.6 `cryptoProperties`, typed after the official schema, and the step that attaches them to the JSON the
// cyclonedx-library normalizer makes (the library, 10.3.0, has no model for them).
import { Enums, Models } from '@cyclonedx/cyclonedx-library';
import type { Serialize } from '@cyclonedx/cyclonedx-library';

// The enums below are copied from definitions.cryptoProperties in res/schema/bom-1.6.SNAPSHOT.schema.json of the
// library; a unit test compares each with the schema file.

export const CRYPTO_ASSET_TYPES = [
  'algorithm',
  'certificate',
  'protocol',
  'related-crypto-material',
] as const;
export type CryptoAssetType = (typeof CRYPTO_ASSET_TYPES)[number];

export const CRYPTO_PRIMITIVES = [
  'drbg',
  'mac',
  'block-cipher',
  'stream-cipher',
  'signature',
  'hash',
  'pke',
  'xof',
  'kdf',
  'key-agree',
  'kem',
  'ae',
  'combiner',
  'other',
  'unknown',
] as const;
export type CryptoPrimitive = (typeof CRYPTO_PRIMITIVES)[number];

export const CRYPTO_EXECUTION_ENVIRONMENTS = [
  'software-plain-ram',
  'software-encrypted-ram',
  'software-tee',
  'hardware',
  'other',
  'unknown',
] as const;
export type CryptoExecutionEnvironment = (typeof CRYPTO_EXECUTION_ENVIRONMENTS)[number];

export const CRYPTO_IMPLEMENTATION_PLATFORMS = [
  'generic',
  'x86_32',
  'x86_64',
  'armv7-a',
  'armv7-m',
  'armv8-a',
  'armv8-m',
  'armv9-a',
  'armv9-m',
  's390x',
  'ppc64',
  'ppc64le',
  'other',
  'unknown',
] as const;
export type CryptoImplementationPlatform = (typeof CRYPTO_IMPLEMENTATION_PLATFORMS)[number];

export const CRYPTO_CERTIFICATION_LEVELS = [
  'none',
  'fips140-1-l1',
  'fips140-1-l2',
  'fips140-1-l3',
  'fips140-1-l4',
  'fips140-2-l1',
  'fips140-2-l2',
  'fips140-2-l3',
  'fips140-2-l4',
  'fips140-3-l1',
  'fips140-3-l2',
  'fips140-3-l3',
  'fips140-3-l4',
  'cc-eal1',
  'cc-eal1+',
  'cc-eal2',
  'cc-eal2+',
  'cc-eal3',
  'cc-eal3+',
  'cc-eal4',
  'cc-eal4+',
  'cc-eal5',
  'cc-eal5+',
  'cc-eal6',
  'cc-eal6+',
  'cc-eal7',
  'cc-eal7+',
  'other',
  'unknown',
] as const;
export type CryptoCertificationLevel = (typeof CRYPTO_CERTIFICATION_LEVELS)[number];

export const CRYPTO_MODES = ['cbc', 'ecb', 'ccm', 'gcm', 'cfb', 'ofb', 'ctr', 'other', 'unknown'] as const;
export type CryptoMode = (typeof CRYPTO_MODES)[number];

export const CRYPTO_PADDINGS = ['pkcs5', 'pkcs7', 'pkcs1v15', 'oaep', 'raw', 'other', 'unknown'] as const;
export type CryptoPadding = (typeof CRYPTO_PADDINGS)[number];

export const CRYPTO_FUNCTIONS = [
  'generate',
  'keygen',
  'encrypt',
  'decrypt',
  'digest',
  'tag',
  'keyderive',
  'sign',
  'verify',
  'encapsulate',
  'decapsulate',
  'other',
  'unknown',
] as const;
export type CryptoFunction = (typeof CRYPTO_FUNCTIONS)[number];

export const RELATED_CRYPTO_MATERIAL_TYPES = [
  'private-key',
  'public-key',
  'secret-key',
  'key',
  'ciphertext',
  'signature',
  'digest',
  'initialization-vector',
  'nonce',
  'seed',
  'salt',
  'shared-secret',
  'tag',
  'additional-data',
  'password',
  'credential',
  'token',
  'other',
  'unknown',
] as const;
export type RelatedCryptoMaterialType = (typeof RELATED_CRYPTO_MATERIAL_TYPES)[number];

export const RELATED_CRYPTO_MATERIAL_STATES = [
  'pre-activation',
  'active',
  'suspended',
  'deactivated',
  'compromised',
  'destroyed',
] as const;
export type RelatedCryptoMaterialState = (typeof RELATED_CRYPTO_MATERIAL_STATES)[number];

export const CRYPTO_PROTOCOL_TYPES = [
  'tls',
  'ssh',
  'ipsec',
  'ike',
  'sstp',
  'wpa',
  'other',
  'unknown',
] as const;
export type CryptoProtocolType = (typeof CRYPTO_PROTOCOL_TYPES)[number];

/** definitions.refType: a bom-ref, at least one character. */
export type CryptoRef = string;
/** JSON Schema "date-time" (RFC 3339), e.g. 2026-01-01T00:00:00Z. */
export type CryptoDateTime = string;

/** cryptoProperties.algorithmProperties. */
export interface CryptoAlgorithmProperties {
  primitive?: CryptoPrimitive;
  parameterSetIdentifier?: string;
  curve?: string;
  executionEnvironment?: CryptoExecutionEnvironment;
  implementationPlatform?: CryptoImplementationPlatform;
  certificationLevel?: CryptoCertificationLevel[];
  mode?: CryptoMode;
  padding?: CryptoPadding;
  cryptoFunctions?: CryptoFunction[];
  /** Integer, at least 0: bits of security against classical attacks. */
  classicalSecurityLevel?: number;
  /** Integer 0-6: NIST PQC security category, 0 when none is met. */
  nistQuantumSecurityLevel?: number;
}

/** cryptoProperties.certificateProperties. */
export interface CryptoCertificateProperties {
  subjectName?: string;
  issuerName?: string;
  notValidBefore?: CryptoDateTime;
  notValidAfter?: CryptoDateTime;
  signatureAlgorithmRef?: CryptoRef;
  subjectPublicKeyRef?: CryptoRef;
  /** Examples in the schema: X.509, PEM, DER, CVC. */
  certificateFormat?: string;
  /** Examples in the schema: crt, pem, cer, der, p12. */
  certificateExtension?: string;
}

/** definitions.securedBy. */
export interface CryptoSecuredBy {
  mechanism?: string;
  algorithmRef?: CryptoRef;
}

/** cryptoProperties.relatedCryptoMaterialProperties. */
export interface CryptoRelatedCryptoMaterialProperties {
  type?: RelatedCryptoMaterialType;
  id?: string;
  state?: RelatedCryptoMaterialState;
  algorithmRef?: CryptoRef;
  creationDate?: CryptoDateTime;
  activationDate?: CryptoDateTime;
  updateDate?: CryptoDateTime;
  expirationDate?: CryptoDateTime;
  value?: string;
  /** Integer: bits. */
  size?: number;
  /** The schema's examples: P8, PEM, DER. */
  format?: string;
  securedBy?: CryptoSecuredBy;
}

/** definitions.cipherSuite. */
export interface CryptoCipherSuite {
  name?: string;
  algorithms?: CryptoRef[];
  identifiers?: string[];
}

/** cryptoProperties.protocolProperties.ikev2TransformTypes. */
export interface CryptoIkev2TransformTypes {
  encr?: CryptoRef[];
  prf?: CryptoRef[];
  integ?: CryptoRef[];
  ke?: CryptoRef[];
  esn?: boolean;
  auth?: CryptoRef[];
}

/** cryptoProperties.protocolProperties (never produced from certificates; typed for completeness). */
export interface CryptoProtocolProperties {
  type?: CryptoProtocolType;
  version?: string;
  cipherSuites?: CryptoCipherSuite[];
  ikev2TransformTypes?: CryptoIkev2TransformTypes;
  cryptoRefArray?: CryptoRef[];
}

/** definitions.cryptoProperties of CycloneDX 1.6: `assetType` is the only required field. */
export interface CryptoProperties {
  assetType: CryptoAssetType;
  algorithmProperties?: CryptoAlgorithmProperties;
  certificateProperties?: CryptoCertificateProperties;
  relatedCryptoMaterialProperties?: CryptoRelatedCryptoMaterialProperties;
  protocolProperties?: CryptoProtocolProperties;
  oid?: string;
}

/**
 * A library component of type `cryptographic-asset` that also holds its cryptoProperties. The library's normalizer
 * ignores the extra field; {@link attachCryptoProperties} adds it to the normalized component with the same bom-ref.
 */
export class CryptoAssetComponent extends Models.Component {
  cryptoProperties: CryptoProperties;

  constructor(
    name: string,
    bomRef: string,
    cryptoProperties: CryptoProperties,
    op: Omit<Models.OptionalComponentProperties, 'bomRef'> = {},
  ) {
    super(Enums.ComponentType.CryptographicAsset, name, { ...op, bomRef });
    this.cryptoProperties = cryptoProperties;
  }
}

type NormalizedComponent = Serialize.JSON.Types.Normalized.Component;

/** A normalized component as written into the CBOM: the library's shape plus cryptoProperties. */
export interface NormalizedCryptoComponent extends NormalizedComponent {
  cryptoProperties?: CryptoProperties;
  components?: NormalizedCryptoComponent[];
}

/** A normalized BOM whose components may carry cryptoProperties. */
export interface NormalizedCryptoBom extends Serialize.JSON.Types.Normalized.Bom {
  components?: NormalizedCryptoComponent[];
}

function* modelComponents(components: Iterable<Models.Component>): Generator<Models.Component> {
  for (const component of components) {
    yield component;
    yield* modelComponents(component.components);
  }
}

function* normalizedComponents(
  components: readonly NormalizedCryptoComponent[] | undefined,
): Generator<NormalizedCryptoComponent> {
  for (const component of components ?? []) {
    yield component;
    yield* normalizedComponents(component.components);
  }
}

/** A deep copy without undefined members, so the attached tree holds exactly what the JSON will show. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutUndefined(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) out[key] = withoutUndefined(member);
  }
  return out as T;
}

/**
 * Adds each {@link CryptoAssetComponent}'s cryptoProperties (a copy) to the normalized component with the same
 * bom-ref, in `bom.metadata.component` and `bom.components` at any depth. Throws when a crypto asset has no bom-ref,
 * shares one, or is missing from the normalized output: the document would otherwise silently lose crypto facts.
 */
export function attachCryptoProperties(
  normalized: Serialize.JSON.Types.Normalized.Bom,
  bom: Models.Bom,
): NormalizedCryptoBom {
  const wanted = new Map<string, CryptoProperties>();
  const models = [
    ...(bom.metadata.component === undefined ? [] : modelComponents([bom.metadata.component])),
    ...modelComponents(bom.components),
  ];
  for (const component of models) {
    if (!(component instanceof CryptoAssetComponent)) continue;
    const ref = component.bomRef.value;
    if (ref === undefined || ref === '') throw new Error(`crypto asset ${component.name} has no bom-ref`);
    if (wanted.has(ref)) throw new Error(`two crypto assets share bom-ref ${ref}`);
    wanted.set(ref, component.cryptoProperties);
  }
  const document: NormalizedCryptoBom = normalized;
  const metadataComponent: NormalizedCryptoComponent | undefined = document.metadata?.component;
  const targets = [
    ...normalizedComponents(metadataComponent === undefined ? [] : [metadataComponent]),
    ...normalizedComponents(document.components),
  ];
  const attached = new Set<string>();
  for (const target of targets) {
    const ref = target['bom-ref'];
    const cryptoProperties = ref === undefined ? undefined : wanted.get(ref);
    if (ref === undefined || cryptoProperties === undefined) continue;
    if (attached.has(ref)) throw new Error(`bom-ref ${ref} appears twice in the normalized BOM`);
    // A copy: later changes to the document must not reach the model, nor the other way round.
    target.cryptoProperties = withoutUndefined(cryptoProperties);
    attached.add(ref);
  }
  if (attached.size !== wanted.size) {
    const found = new Set(targets.map((target) => target['bom-ref']));
    const missing = [...wanted.keys()].filter((ref) => !found.has(ref));
    throw new Error(`crypto assets missing from the normalized BOM: ${missing.join(', ')}`);
  }
  return document;
}

// CycloneDX 1.6 CBOM of findings: the official library builds and normalizes the document, the sensor attaches the
// cryptoProperties the library does not model, and the library's strict validator checks the result.
import { hash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Enums, Models, Serialize, Spec, Validation } from '@cyclonedx/cyclonedx-library';
import type { Finding } from '#shared/findings/index';
import { keyAlgorithm, signatureAlgorithm } from './cbom-algorithms';
import type { CbomAlgorithm } from './cbom-algorithms';
import { CryptoAssetComponent, attachCryptoProperties } from './cbom-crypto';
import type { CryptoProperties, NormalizedCryptoBom } from './cbom-crypto';

/** What the finding adds beyond CycloneDX's crypto fields. */
export const FINDING_PROPERTY = Object.freeze({
  id: 'kfsensor:finding:id',
  status: 'kfsensor:finding:analysisStatus',
  highestSeverity: 'kfsensor:finding:highestSeverity',
  rule: 'kfsensor:finding:rule',
  pqcReadiness: 'kfsensor:finding:pqcReadiness',
  parseErrorReason: 'kfsensor:finding:parseError:reason',
  parseErrorMessage: 'kfsensor:finding:parseError:message',
  parseErrorOffset: 'kfsensor:finding:parseError:offset',
  serialNumber: 'kfsensor:x509:serialNumber',
  filePath: 'kfsensor:file:path',
  commandCertificateId: 'kfsensor:keyfactor:certificateId',
  commandCertState: 'kfsensor:keyfactor:certState',
  commandIssuedDn: 'kfsensor:keyfactor:issuedDN',
  commandCertificateAuthority: 'kfsensor:keyfactor:certificateAuthority',
  commandTemplate: 'kfsensor:keyfactor:template',
});

/**
 * Metadata property naming where the crypto facts are: {@link CRYPTO_ENCODING} now; documents from before this
 * exporter attached cryptoProperties said `properties` (flattened `kfsensor:crypto:*` component properties).
 */
export const CRYPTO_ENCODING_PROPERTY = 'kfsensor:crypto:encoding';
export const CRYPTO_ENCODING = 'cryptoProperties';

export const CERTIFICATE_REF_PREFIX = 'cert:';
export const KEY_REF_PREFIX = 'key:';
export const ALGORITHM_REF_PREFIX = 'alg:';

export interface CbomOptions {
  /** Default a random urn:uuid; fix it (and timestamp) to compare documents byte for byte. */
  serialNumber?: string;
  /** Default now. */
  timestamp?: Date;
  /** Version of kfsensor in metadata.tools; default the findings' sensor versions (one tool entry per version). */
  toolVersion?: string;
}

const BOM_REF_SAFE = /[^A-Za-z0-9._-]+/g;

/** Readable and stable: the name itself when it is ref-safe, else a cleaned name plus a hash that keeps it unique. */
export function algorithmRef(algorithmName: string): string {
  const cleaned = algorithmName.replace(BOM_REF_SAFE, '-');
  if (cleaned === algorithmName) return `${ALGORITHM_REF_PREFIX}${algorithmName}`;
  return `${ALGORITHM_REF_PREFIX}${cleaned}~${hash('sha256', algorithmName, 'hex').slice(0, 8)}`;
}

const CERTIFICATE_FILE_EXTENSIONS: ReadonlySet<string> = new Set(['crt', 'cer', 'pem', 'der']);

/** The file's own extension when it is a certificate one; Command hands out base64 DER, hence 'der'. */
function certificateExtension(finding: Finding): string | undefined {
  const file = finding.observation.file;
  if (file === undefined) return finding.observation.source.type === 'keyfactor-command' ? 'der' : undefined;
  const extension = path.extname(file.path).slice(1).toLowerCase();
  return CERTIFICATE_FILE_EXTENSIONS.has(extension) ? extension : undefined;
}

function addProperty(
  component: Models.Component,
  name: string,
  value: string | number | null | undefined,
): void {
  if (value === null || value === undefined) return;
  component.properties.add(new Models.Property(name, String(value)));
}

/**
 * An algorithm as a certificate shows it. Where and how it is implemented, and whether that implementation is
 * certified, is not in a certificate: the schema's `unknown` says so. `mode` (block ciphers only) is never written.
 */
function algorithmCryptoProperties(algorithm: CbomAlgorithm): CryptoProperties {
  return {
    assetType: 'algorithm',
    algorithmProperties: {
      primitive: algorithm.primitive,
      parameterSetIdentifier: algorithm.parameterSetIdentifier ?? undefined,
      curve: algorithm.curve ?? undefined,
      executionEnvironment: 'unknown',
      implementationPlatform: 'unknown',
      certificationLevel: ['unknown'],
      padding: algorithm.padding ?? undefined,
      cryptoFunctions: [...algorithm.cryptoFunctions],
      classicalSecurityLevel: algorithm.classicalSecurityLevel ?? undefined,
      nistQuantumSecurityLevel: algorithm.nistQuantumSecurityLevel ?? undefined,
    },
    oid: algorithm.oid,
  };
}

/** Which of two findings of the same certificate speaks for it: a fixed choice, so the input order cannot matter. */
function speaksFirst(a: Finding, b: Finding): boolean {
  const fromCommand = (f: Finding) => (f.observation.source.type === 'keyfactor-command' ? 0 : 1);
  if (fromCommand(a) !== fromCommand(b)) return fromCommand(a) < fromCommand(b);
  const idA = a.observation.source.certificate_id ?? Number.POSITIVE_INFINITY;
  const idB = b.observation.source.certificate_id ?? Number.POSITIVE_INFINITY;
  if (idA !== idB) return idA < idB;
  const pathA = a.observation.file?.path ?? '';
  const pathB = b.observation.file?.path ?? '';
  if (pathA !== pathB) return pathA < pathB;
  return JSON.stringify(a) < JSON.stringify(b);
}

interface CertificateEntry {
  /** The finding whose analysis and Command facts the component shows ({@link speaksFirst}). */
  finding: Finding;
  /** Every place the certificate was found. */
  filePaths: Set<string>;
  commandCertificateIds: Set<number>;
}

/** The key and algorithm components of one build, each made once and shared by every certificate that uses it. */
class SharedAssets {
  readonly algorithms = new Map<string, CryptoAssetComponent>();
  readonly keys = new Map<string, CryptoAssetComponent>();

  algorithm(algorithm: CbomAlgorithm): CryptoAssetComponent {
    const ref = algorithmRef(algorithm.name);
    let component = this.algorithms.get(ref);
    if (component === undefined) {
      component = new CryptoAssetComponent(algorithm.name, ref, algorithmCryptoProperties(algorithm));
      this.algorithms.set(ref, component);
    }
    return component;
  }

  /** The key as related crypto material: what it is and how big, never its bytes. */
  publicKey(finding: Finding): CryptoAssetComponent | undefined {
    const key = finding.crypto.x509.public_key;
    if (key === undefined) return undefined;
    const ref = `${KEY_REF_PREFIX}${key.spki_sha256}`;
    let component = this.keys.get(ref);
    if (component !== undefined) return component;
    const algorithm = this.algorithm(keyAlgorithm(key, finding.analysis.pqc));
    component = new CryptoAssetComponent(
      `${algorithm.name} public key ${key.spki_sha256.slice(0, 16)}`,
      ref,
      {
        assetType: 'related-crypto-material',
        relatedCryptoMaterialProperties: {
          type: 'public-key',
          // The SHA-256 of the DER SubjectPublicKeyInfo: the key across certificates, without disclosing it.
          id: key.spki_sha256,
          algorithmRef: algorithm.bomRef.value,
          size: key.key_size_bits ?? undefined,
        },
      },
    );
    component.hashes.set(Enums.HashAlgorithm['SHA-256'], key.spki_sha256);
    component.dependencies.add(algorithm.bomRef);
    this.keys.set(ref, component);
    return component;
  }
}

function certificateComponent(entry: CertificateEntry, shared: SharedAssets): CryptoAssetComponent {
  const finding = entry.finding;
  const x509 = finding.crypto.x509;
  const signature =
    x509.signature === undefined ? undefined : shared.algorithm(signatureAlgorithm(x509.signature));
  const key = shared.publicKey(finding);
  const certificate = new CryptoAssetComponent(
    finding.object.name,
    `${CERTIFICATE_REF_PREFIX}${finding.id}`,
    {
      assetType: 'certificate',
      certificateProperties: {
        subjectName: x509.subject?.dn,
        issuerName: x509.issuer?.dn,
        notValidBefore: x509.not_before,
        notValidAfter: x509.not_after,
        signatureAlgorithmRef: signature?.bomRef.value,
        subjectPublicKeyRef: key?.bomRef.value,
        certificateFormat: 'X.509',
        certificateExtension: certificateExtension(finding),
      },
    },
  );
  if (x509.fingerprints !== undefined) {
    certificate.hashes.set(Enums.HashAlgorithm['SHA-1'], x509.fingerprints.sha1);
    certificate.hashes.set(Enums.HashAlgorithm['SHA-256'], x509.fingerprints.sha256);
  }
  if (signature !== undefined) certificate.dependencies.add(signature.bomRef);
  if (key !== undefined) certificate.dependencies.add(key.bomRef);
  addProperty(certificate, FINDING_PROPERTY.serialNumber, x509.serial_number);
  addFindingFacts(certificate, finding);
  for (const filePath of entry.filePaths) addProperty(certificate, FINDING_PROPERTY.filePath, filePath);
  for (const id of entry.commandCertificateIds)
    addProperty(certificate, FINDING_PROPERTY.commandCertificateId, id);
  return certificate;
}

function addFindingFacts(certificate: Models.Component, finding: Finding): void {
  const analysis = finding.analysis;
  addProperty(certificate, FINDING_PROPERTY.id, finding.id);
  addProperty(certificate, FINDING_PROPERTY.status, analysis.status);
  addProperty(certificate, FINDING_PROPERTY.highestSeverity, analysis.highest_severity);
  addProperty(certificate, FINDING_PROPERTY.pqcReadiness, analysis.pqc?.readiness);
  for (const rule of analysis.rules) addProperty(certificate, FINDING_PROPERTY.rule, rule.id);
  if (analysis.parse_error !== undefined) {
    addProperty(certificate, FINDING_PROPERTY.parseErrorReason, analysis.parse_error.reason);
    addProperty(certificate, FINDING_PROPERTY.parseErrorMessage, analysis.parse_error.message);
    addProperty(certificate, FINDING_PROPERTY.parseErrorOffset, analysis.parse_error.offset);
  }
  const keyfactor = finding.crypto.x509.keyfactor;
  if (keyfactor !== null) {
    addProperty(certificate, FINDING_PROPERTY.commandCertState, keyfactor.cert_state.name);
    addProperty(
      certificate,
      FINDING_PROPERTY.commandCertificateAuthority,
      keyfactor.certificate_authority_name,
    );
    addProperty(certificate, FINDING_PROPERTY.commandTemplate, keyfactor.template_name);
    // What Command says the certificate is: the only subject left when the content does not parse.
    if (analysis.status === 'parse-error')
      addProperty(certificate, FINDING_PROPERTY.commandIssuedDn, keyfactor.issued_dn);
  }
}

/**
 * Accumulates findings into one BOM: one component per certificate (by finding id), per public key (by SPKI hash)
 * and per algorithm (by name), so a key or an algorithm shared by many certificates appears once and is referenced.
 * The components are made in {@link build}, from a choice that does not depend on the order findings were added.
 */
export class CbomBuilder {
  private readonly certificates = new Map<string, CertificateEntry>();
  private readonly sensorVersions = new Set<string>();

  add(finding: Finding): void {
    this.sensorVersions.add(finding.observation.sensor.version);
    let entry = this.certificates.get(finding.id);
    if (entry === undefined) {
      entry = { finding, filePaths: new Set(), commandCertificateIds: new Set() };
      this.certificates.set(finding.id, entry);
    } else if (speaksFirst(finding, entry.finding)) {
      // The same certificate found again (another file, another Command record): one component, every occurrence.
      entry.finding = finding;
    }
    const filePath = finding.observation.file?.path;
    if (filePath !== undefined) entry.filePaths.add(filePath);
    const certificateId = finding.observation.source.certificate_id;
    if (certificateId !== null) entry.commandCertificateIds.add(certificateId);
  }

  /**
   * The library's model of everything added so far, with the document identity and tool in its metadata. Crypto
   * asset components are {@link CryptoAssetComponent}s: {@link serializeCbom} writes their cryptoProperties.
   */
  build(options: CbomOptions = {}): Models.Bom {
    const bom = new Models.Bom({ serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}` });
    bom.metadata.timestamp = options.timestamp ?? new Date();
    const versions = options.toolVersion === undefined ? [...this.sensorVersions] : [options.toolVersion];
    if (versions.length === 0) {
      bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'kfsensor'));
    }
    for (const version of versions) {
      bom.metadata.tools.components.add(
        new Models.Component(Enums.ComponentType.Application, 'kfsensor', { version }),
      );
    }
    bom.metadata.properties.add(new Models.Property(CRYPTO_ENCODING_PROPERTY, CRYPTO_ENCODING));
    const shared = new SharedAssets();
    for (const id of [...this.certificates.keys()].sort()) {
      const entry = this.certificates.get(id);
      if (entry !== undefined) bom.components.add(certificateComponent(entry, shared));
    }
    for (const components of [shared.keys, shared.algorithms]) {
      for (const component of components.values()) bom.components.add(component);
    }
    return bom;
  }
}

/** The findings as a library BOM model (for callers that add their own metadata before serializing). */
export function buildCbom(findings: Iterable<Finding>, options: CbomOptions = {}): Models.Bom {
  const builder = new CbomBuilder();
  for (const finding of findings) builder.add(finding);
  return builder.build(options);
}

function* componentRefs(components: Iterable<Models.Component>): Generator<Models.BomRef> {
  for (const component of components) {
    yield component.bomRef;
    yield* componentRefs(component.components);
  }
}

function* serviceRefs(services: Iterable<Models.Service>): Generator<Models.BomRef> {
  for (const service of services) {
    yield service.bomRef;
    yield* serviceRefs(service.services);
  }
}

/** Every bom-ref the library's serializer makes unique before normalizing (its BaseSerializer does the same). */
function* allBomRefs(bom: Models.Bom): Generator<Models.BomRef> {
  if (bom.metadata.component !== undefined) yield* componentRefs([bom.metadata.component]);
  yield* componentRefs(bom.components);
  yield* serviceRefs(bom.services);
  for (const vulnerability of bom.vulnerabilities) yield vulnerability.bomRef;
}

/**
 * The library's CycloneDX 1.6 JSON normalization of `bom` (lists sorted, bom-refs made unique as the library's
 * JsonSerializer does), then each crypto asset's cryptoProperties attached to its normalized component by bom-ref:
 * the object tree {@link serializeCbom} writes.
 */
export function normalizeCbom(bom: Models.Bom): NormalizedCryptoBom {
  const normalizer = new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6).makeForBom();
  const discriminator = new Serialize.BomRefDiscriminator(allBomRefs(bom));
  discriminator.discriminate();
  try {
    return attachCryptoProperties(normalizer.normalize(bom, { sortLists: true }), bom);
  } finally {
    discriminator.reset();
  }
}

/** CycloneDX 1.6 JSON: equal inputs give equal text apart from serialNumber and timestamp. */
export function serializeCbom(bom: Models.Bom, space: number | string = 2): string {
  return `${JSON.stringify(normalizeCbom(bom), null, space)}\n`;
}

export function findingsToCbomJson(findings: Iterable<Finding>, options: CbomOptions = {}): string {
  return serializeCbom(buildCbom(findings, options));
}

export interface CbomValidation {
  valid: boolean;
  /** The validator's error objects, one JSON text each; empty when valid. */
  errors: string[];
}

let strictValidator: Validation.JsonStrictValidator | undefined;

/**
 * Checks CycloneDX JSON against the official 1.6 schema with the library's strict validator (compiled once, then
 * reused); the schema covers cryptoProperties, so this checks what the library does not model too.
 */
export async function validateCbomJson(json: string): Promise<CbomValidation> {
  strictValidator ??= new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  const result: unknown = await strictValidator.validate(json);
  if (result === null) return { valid: true, errors: [] };
  const errors = Array.isArray(result)
    ? result.map((error) => JSON.stringify(error))
    : [JSON.stringify(result)];
  return { valid: false, errors };
}

// CycloneDX 1.6 CBOM of findings, built with the official library's models, serializer and strict validator.
import { hash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Enums, Models, Serialize, Spec, Validation } from '@cyclonedx/cyclonedx-library';
import type { Finding } from '#shared/findings/index';
import { keyAlgorithm, signatureAlgorithm } from './cbom-algorithms';
import type { CbomAlgorithm } from './cbom-algorithms';

/**
 * Library 10.3.0 has ComponentType 'cryptographic-asset' but no model for `cryptoProperties`, and its serializer only
 * writes modelled fields. Each 1.6 cryptoProperties field therefore travels as a component property named
 * `kfsensor:crypto:<path inside cryptoProperties>` (arrays as one property per item), see docs/exports.md.
 */
export const CRYPTO_PROPERTY = Object.freeze({
  assetType: 'kfsensor:crypto:assetType',
  oid: 'kfsensor:crypto:oid',
  primitive: 'kfsensor:crypto:algorithmProperties:primitive',
  parameterSetIdentifier: 'kfsensor:crypto:algorithmProperties:parameterSetIdentifier',
  curve: 'kfsensor:crypto:algorithmProperties:curve',
  cryptoFunctions: 'kfsensor:crypto:algorithmProperties:cryptoFunctions',
  classicalSecurityLevel: 'kfsensor:crypto:algorithmProperties:classicalSecurityLevel',
  nistQuantumSecurityLevel: 'kfsensor:crypto:algorithmProperties:nistQuantumSecurityLevel',
  subjectName: 'kfsensor:crypto:certificateProperties:subjectName',
  issuerName: 'kfsensor:crypto:certificateProperties:issuerName',
  notValidBefore: 'kfsensor:crypto:certificateProperties:notValidBefore',
  notValidAfter: 'kfsensor:crypto:certificateProperties:notValidAfter',
  signatureAlgorithmRef: 'kfsensor:crypto:certificateProperties:signatureAlgorithmRef',
  subjectPublicKeyRef: 'kfsensor:crypto:certificateProperties:subjectPublicKeyRef',
  certificateFormat: 'kfsensor:crypto:certificateProperties:certificateFormat',
  certificateExtension: 'kfsensor:crypto:certificateProperties:certificateExtension',
  materialType: 'kfsensor:crypto:relatedCryptoMaterialProperties:type',
  materialId: 'kfsensor:crypto:relatedCryptoMaterialProperties:id',
  materialSize: 'kfsensor:crypto:relatedCryptoMaterialProperties:size',
  materialAlgorithmRef: 'kfsensor:crypto:relatedCryptoMaterialProperties:algorithmRef',
});

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

/** Marks the document so a reader looking for cryptoProperties learns where they are. */
export const CRYPTO_ENCODING_PROPERTY = 'kfsensor:crypto:encoding';

export const CERTIFICATE_REF_PREFIX = 'cert:';
export const KEY_REF_PREFIX = 'key:';
export const ALGORITHM_REF_PREFIX = 'alg:';

export interface CbomOptions {
  /** Default a random urn:uuid; fix it (and timestamp) to compare documents byte for byte. */
  serialNumber?: string;
  /** Default now. */
  timestamp?: Date;
  /** Version of kfsensor in metadata.tools; default the sensor version of the first finding. */
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
function certificateExtension(finding: Finding): string | null {
  const file = finding.observation.file;
  if (file === undefined) return finding.observation.source.type === 'keyfactor-command' ? 'der' : null;
  const extension = path.extname(file.path).slice(1).toLowerCase();
  return CERTIFICATE_FILE_EXTENSIONS.has(extension) ? extension : null;
}

function addProperty(
  component: Models.Component,
  name: string,
  value: string | number | null | undefined,
): void {
  if (value === null || value === undefined) return;
  component.properties.add(new Models.Property(name, String(value)));
}

function algorithmComponent(algorithm: CbomAlgorithm, ref: string): Models.Component {
  const component = new Models.Component(Enums.ComponentType.CryptographicAsset, algorithm.name, {
    bomRef: ref,
  });
  addProperty(component, CRYPTO_PROPERTY.assetType, 'algorithm');
  addProperty(component, CRYPTO_PROPERTY.oid, algorithm.oid);
  addProperty(component, CRYPTO_PROPERTY.primitive, algorithm.primitive);
  addProperty(component, CRYPTO_PROPERTY.parameterSetIdentifier, algorithm.parameterSetIdentifier);
  addProperty(component, CRYPTO_PROPERTY.curve, algorithm.curve);
  for (const cryptoFunction of algorithm.cryptoFunctions) {
    addProperty(component, CRYPTO_PROPERTY.cryptoFunctions, cryptoFunction);
  }
  addProperty(component, CRYPTO_PROPERTY.classicalSecurityLevel, algorithm.classicalSecurityLevel);
  addProperty(component, CRYPTO_PROPERTY.nistQuantumSecurityLevel, algorithm.nistQuantumSecurityLevel);
  return component;
}

/**
 * Accumulates findings into one BOM: one component per certificate (by finding id), per public key (by SPKI hash)
 * and per algorithm (by name), so a key or an algorithm shared by many certificates appears once and is referenced.
 */
export class CbomBuilder {
  private readonly algorithms = new Map<string, Models.Component>();
  private readonly keys = new Map<string, Models.Component>();
  private readonly certificates = new Map<string, Models.Component>();
  private firstSensorVersion: string | undefined;

  add(finding: Finding): void {
    this.firstSensorVersion ??= finding.observation.sensor.version;
    const ref = `${CERTIFICATE_REF_PREFIX}${finding.id}`;
    const seen = this.certificates.get(ref);
    if (seen !== undefined) {
      // The same certificate found again (another file, another Command record): one component, every occurrence.
      this.addOccurrence(seen, finding);
      return;
    }
    const certificate = new Models.Component(Enums.ComponentType.CryptographicAsset, finding.object.name, {
      bomRef: ref,
    });
    this.certificates.set(ref, certificate);
    addProperty(certificate, CRYPTO_PROPERTY.assetType, 'certificate');
    addProperty(certificate, CRYPTO_PROPERTY.certificateFormat, 'X.509');
    addProperty(certificate, CRYPTO_PROPERTY.certificateExtension, certificateExtension(finding));
    this.addFindingFacts(certificate, finding);
    this.addOccurrence(certificate, finding);

    const x509 = finding.crypto.x509;
    if (x509.fingerprints !== undefined) {
      certificate.hashes.set(Enums.HashAlgorithm['SHA-1'], x509.fingerprints.sha1);
      certificate.hashes.set(Enums.HashAlgorithm['SHA-256'], x509.fingerprints.sha256);
    }
    addProperty(certificate, CRYPTO_PROPERTY.subjectName, x509.subject?.dn);
    addProperty(certificate, CRYPTO_PROPERTY.issuerName, x509.issuer?.dn);
    addProperty(certificate, CRYPTO_PROPERTY.notValidBefore, x509.not_before);
    addProperty(certificate, CRYPTO_PROPERTY.notValidAfter, x509.not_after);
    addProperty(certificate, FINDING_PROPERTY.serialNumber, x509.serial_number);
    if (x509.signature !== undefined) {
      const signature = this.algorithm(signatureAlgorithm(x509.signature));
      addProperty(certificate, CRYPTO_PROPERTY.signatureAlgorithmRef, signature.bomRef.value);
      certificate.dependencies.add(signature.bomRef);
    }
    if (x509.public_key !== undefined) {
      const key = this.publicKey(finding);
      if (key !== null) {
        addProperty(certificate, CRYPTO_PROPERTY.subjectPublicKeyRef, key.bomRef.value);
        certificate.dependencies.add(key.bomRef);
      }
    }
  }

  /** The library's model of everything added so far, with the document identity and tool in its metadata. */
  build(options: CbomOptions = {}): Models.Bom {
    const bom = new Models.Bom({ serialNumber: options.serialNumber ?? `urn:uuid:${randomUUID()}` });
    bom.metadata.timestamp = options.timestamp ?? new Date();
    const version = options.toolVersion ?? this.firstSensorVersion;
    bom.metadata.tools.components.add(
      new Models.Component(
        Enums.ComponentType.Application,
        'kfsensor',
        version === undefined ? {} : { version },
      ),
    );
    bom.metadata.properties.add(new Models.Property(CRYPTO_ENCODING_PROPERTY, 'properties'));
    for (const components of [this.certificates, this.keys, this.algorithms]) {
      for (const component of components.values()) bom.components.add(component);
    }
    return bom;
  }

  private algorithm(algorithm: CbomAlgorithm): Models.Component {
    const ref = algorithmRef(algorithm.name);
    let component = this.algorithms.get(ref);
    if (component === undefined) {
      component = algorithmComponent(algorithm, ref);
      this.algorithms.set(ref, component);
    }
    return component;
  }

  /** The key as related crypto material: what it is and how big, never its bytes. */
  private publicKey(finding: Finding): Models.Component | null {
    const key = finding.crypto.x509.public_key;
    if (key === undefined) return null;
    const ref = `${KEY_REF_PREFIX}${key.spki_sha256}`;
    let component = this.keys.get(ref);
    if (component !== undefined) return component;
    const algorithm = this.algorithm(keyAlgorithm(key, finding.analysis.pqc));
    component = new Models.Component(
      Enums.ComponentType.CryptographicAsset,
      `${algorithm.name} public key ${key.spki_sha256.slice(0, 16)}`,
      { bomRef: ref },
    );
    addProperty(component, CRYPTO_PROPERTY.assetType, 'related-crypto-material');
    addProperty(component, CRYPTO_PROPERTY.materialType, 'public-key');
    addProperty(component, CRYPTO_PROPERTY.materialId, key.spki_sha256);
    addProperty(component, CRYPTO_PROPERTY.materialSize, key.key_size_bits);
    addProperty(component, CRYPTO_PROPERTY.materialAlgorithmRef, algorithm.bomRef.value);
    // The SHA-256 of the DER SubjectPublicKeyInfo: identifies the key across certificates without disclosing it.
    component.hashes.set(Enums.HashAlgorithm['SHA-256'], key.spki_sha256);
    component.dependencies.add(algorithm.bomRef);
    this.keys.set(ref, component);
    return component;
  }

  private addFindingFacts(certificate: Models.Component, finding: Finding): void {
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

  private addOccurrence(certificate: Models.Component, finding: Finding): void {
    addProperty(certificate, FINDING_PROPERTY.filePath, finding.observation.file?.path);
    addProperty(
      certificate,
      FINDING_PROPERTY.commandCertificateId,
      finding.observation.source.certificate_id,
    );
  }
}

/** The findings as a library BOM model (for callers that add their own metadata before serializing). */
export function buildCbom(findings: Iterable<Finding>, options: CbomOptions = {}): Models.Bom {
  const builder = new CbomBuilder();
  for (const finding of findings) builder.add(finding);
  return builder.build(options);
}

/** CycloneDX 1.6 JSON, lists sorted so equal inputs give equal text apart from serialNumber and timestamp. */
export function serializeCbom(bom: Models.Bom, space: number | string = 2): string {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space })}\n`;
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

/** Checks CycloneDX JSON against the 1.6 schema with the library's strict validator (compiled once, then reused). */
export async function validateCbomJson(json: string): Promise<CbomValidation> {
  strictValidator ??= new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  const result: unknown = await strictValidator.validate(json);
  if (result === null) return { valid: true, errors: [] };
  const errors = Array.isArray(result)
    ? result.map((error) => JSON.stringify(error))
    : [JSON.stringify(result)];
  return { valid: false, errors };
}

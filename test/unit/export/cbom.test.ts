// The CBOM exporter: real CycloneDX 1.6 cryptoProperties, strictly valid against the official schema (which the
// library's validator really checks), references that resolve, shared algorithms and keys, levels, stable output.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { analyseCertificate, analyseDer } from '#shared/findings/index';
import type { AnalysisContext, Finding } from '#shared/findings/index';
import {
  CRYPTO_ENCODING_PROPERTY,
  FINDING_PROPERTY,
  algorithmRef,
  buildCbom,
  findingsToCbomJson,
  validateCbomJson,
} from '#shared/export/index';
import {
  CRYPTO_ASSET_TYPES,
  CRYPTO_CERTIFICATION_LEVELS,
  CRYPTO_EXECUTION_ENVIRONMENTS,
  CRYPTO_FUNCTIONS,
  CRYPTO_IMPLEMENTATION_PLATFORMS,
  CRYPTO_MODES,
  CRYPTO_PADDINGS,
  CRYPTO_PRIMITIVES,
  CRYPTO_PROTOCOL_TYPES,
  RELATED_CRYPTO_MATERIAL_STATES,
  RELATED_CRYPTO_MATERIAL_TYPES,
  attachCryptoProperties,
} from '#shared/export/cbom-crypto';
import type {
  CryptoAlgorithmProperties,
  CryptoCertificateProperties,
  CryptoProperties,
  CryptoRelatedCryptoMaterialProperties,
} from '#shared/export/cbom-crypto';
import { generateInventory } from '#shared/simulator/generator/index';
import { craftedCorpus } from '#test/fixtures/x509/crafted';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const FIXED = { serialNumber: 'urn:uuid:6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f', timestamp: NOW };

const commandContext: AnalysisContext = {
  now: NOW,
  sensor: { name: 'kfsensor', version: '9.9.9', ranBy: 'test' },
  source: { url: 'https://command.example.com/KeyfactorAPI' },
};
const fileContext: AnalysisContext = {
  ...commandContext,
  source: { url: null },
  filePath: 'certs/crafted.pem',
};

interface CdxProperty {
  name: string;
  value?: string;
}
interface CdxComponent {
  type: string;
  name: string;
  'bom-ref': string;
  version?: string;
  hashes?: { alg: string; content: string }[];
  properties?: CdxProperty[];
  cryptoProperties?: CryptoProperties;
}
interface CdxDocument {
  bomFormat: string;
  specVersion: string;
  serialNumber: string;
  metadata: { timestamp: string; tools: { components: CdxComponent[] }; properties?: CdxProperty[] };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}

function values(component: CdxComponent | undefined, name: string): string[] {
  return (component?.properties ?? []).filter((p) => p.name === name).map((p) => p.value ?? '');
}
function value(component: CdxComponent | undefined, name: string): string | undefined {
  const all = values(component, name);
  if (all.length > 1) throw new Error(`${name} appears ${all.length} times on ${component?.['bom-ref']}`);
  return all[0];
}

function cryptoOf(component: CdxComponent | undefined): CryptoProperties {
  const crypto = component?.cryptoProperties;
  if (crypto === undefined) throw new Error(`no cryptoProperties on ${component?.['bom-ref']}`);
  return crypto;
}
function certificatePropertiesOf(component: CdxComponent | undefined): CryptoCertificateProperties {
  const crypto = cryptoOf(component);
  expect(crypto.assetType).toBe('certificate');
  if (crypto.certificateProperties === undefined) throw new Error('no certificateProperties');
  return crypto.certificateProperties;
}
function algorithmPropertiesOf(component: CdxComponent | undefined): CryptoAlgorithmProperties {
  const crypto = cryptoOf(component);
  expect(crypto.assetType).toBe('algorithm');
  if (crypto.algorithmProperties === undefined) throw new Error('no algorithmProperties');
  return crypto.algorithmProperties;
}
function materialPropertiesOf(component: CdxComponent | undefined): CryptoRelatedCryptoMaterialProperties {
  const crypto = cryptoOf(component);
  expect(crypto.assetType).toBe('related-crypto-material');
  if (crypto.relatedCryptoMaterialProperties === undefined)
    throw new Error('no relatedCryptoMaterialProperties');
  return crypto.relatedCryptoMaterialProperties;
}

/** Deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

let commandFindings: Finding[];
let craftedDers: Uint8Array[];
let craftedFindings: Finding[];
let unreadable: Finding[];
let findings: Finding[];
let json: string;
let doc: CdxDocument;
let byRef: Map<string, CdxComponent>;

beforeAll(() => {
  const inventory = generateInventory({ seed: 11, count: 300, now: NOW });
  commandFindings = inventory.map((certificate) => analyseCertificate(certificate, commandContext));
  // The crafted corpus draws fresh random keys on every call: keep this one's bytes for the tests that re-analyse.
  craftedDers = craftedCorpus().map((crafted) => crafted.der);
  craftedFindings = craftedDers.map((der) => analyseDer(der, fileContext));
  const first = inventory[0];
  if (first === undefined) throw new Error('empty inventory');
  unreadable = [
    analyseDer(Buffer.from('not a certificate at all'), fileContext),
    analyseDer(Uint8Array.from([0x30, 0x82, 0x01, 0x00, 0x02]), fileContext),
    analyseCertificate({ ...first, Id: 999_001, ContentBytes: 'bm90IERFUg=!' }, commandContext),
  ];
  findings = [...commandFindings, ...craftedFindings, ...unreadable];
  json = findingsToCbomJson(findings, FIXED);
  doc = JSON.parse(json) as CdxDocument;
  byRef = new Map(doc.components.map((component) => [component['bom-ref'], component]));
});

function certificateOf(finding: Finding): CdxComponent {
  const component = byRef.get(`cert:${finding.id}`);
  if (component === undefined) throw new Error(`no component for finding ${finding.id}`);
  return component;
}

function algorithmNamed(name: string): CdxComponent {
  const component = byRef.get(algorithmRef(name));
  if (component === undefined) throw new Error(`no algorithm component ${name}`);
  return component;
}

function findingWhere(predicate: (finding: Finding) => boolean, what: string): Finding {
  const found = findings.find(predicate);
  if (found === undefined) throw new Error(`no finding with ${what}`);
  return found;
}

function componentsOfType(assetType: CryptoProperties['assetType']): CdxComponent[] {
  return doc.components.filter((component) => component.cryptoProperties?.assetType === assetType);
}

describe('CBOM document', () => {
  it('passes the library strict CycloneDX 1.6 validator with zero errors, parse errors included', async () => {
    expect(commandFindings).toHaveLength(300);
    expect(craftedFindings.length).toBeGreaterThan(50);
    expect(unreadable.every((finding) => finding.analysis.status === 'parse-error')).toBe(true);
    const validation = await validateCbomJson(json);
    expect(validation.errors).toEqual([]);
    expect(validation.valid).toBe(true);
    expect(doc.bomFormat).toBe('CycloneDX');
    expect(doc.specVersion).toBe('1.6');
  });

  it('gives every component real cryptoProperties and no flattened kfsensor:crypto:* properties', () => {
    expect(doc.components.length).toBeGreaterThan(300);
    for (const component of doc.components) {
      expect(component.type).toBe('cryptographic-asset');
      expect(CRYPTO_ASSET_TYPES).toContain(cryptoOf(component).assetType);
      for (const property of component.properties ?? []) {
        expect(property.name).toMatch(/^kfsensor:(finding|x509|file|keyfactor):/);
      }
    }
    const counts = new Map<string, number>();
    for (const component of doc.components) {
      const type = cryptoOf(component).assetType;
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    expect(counts.get('certificate')).toBe(new Set(findings.map((finding) => finding.id)).size);
    expect(counts.get('related-crypto-material')).toBe(
      new Set(findings.flatMap((f) => f.crypto.x509.public_key?.spki_sha256 ?? [])).size,
    );
    expect(counts.get('algorithm')).toBeGreaterThan(20);
    expect(counts.get('protocol')).toBeUndefined();
  });

  // Each mutation breaks one rule of definitions.cryptoProperties in the official schema.
  const mutations: [string, (components: CdxComponent[]) => void][] = [
    ['unknown assetType', (c) => (cryptoOf(certificateIn(c)).assetType = 'private-key' as 'certificate')],
    ['missing assetType', (c) => delete (cryptoOf(certificateIn(c)) as Partial<CryptoProperties>).assetType],
    ['unknown primitive', (c) => (algorithmPropertiesOf(algorithmIn(c)).primitive = 'rsa' as 'pke')],
    ['quantum level above 6', (c) => (algorithmPropertiesOf(algorithmIn(c)).nistQuantumSecurityLevel = 7)],
    [
      'fractional classical level',
      (c) => (algorithmPropertiesOf(algorithmIn(c)).classicalSecurityLevel = 112.5),
    ],
    [
      'level as a string',
      (c) => (algorithmPropertiesOf(algorithmIn(c)).classicalSecurityLevel = '112' as never),
    ],
    [
      'unknown cryptoFunction',
      (c) => (algorithmPropertiesOf(algorithmIn(c)).cryptoFunctions = ['sig' as 'sign']),
    ],
    [
      'notValidAfter not a date-time',
      (c) => (certificatePropertiesOf(certificateIn(c)).notValidAfter = 'soon'),
    ],
    [
      'empty signatureAlgorithmRef',
      (c) => (certificatePropertiesOf(certificateIn(c)).signatureAlgorithmRef = ''),
    ],
    [
      'field the schema lacks',
      (c) => Object.assign(certificatePropertiesOf(certificateIn(c)), { serial: '01' }),
    ],
    ['unknown material type', (c) => (materialPropertiesOf(keyIn(c)).type = 'public' as 'public-key')],
    ['material size as a string', (c) => (materialPropertiesOf(keyIn(c)).size = '2048' as never)],
  ];
  function certificateIn(components: CdxComponent[]): CdxComponent {
    const found = components.find((c) => c['bom-ref'] === `cert:${commandFindings[0]?.id}`);
    if (found === undefined) throw new Error('no certificate');
    return found;
  }
  function algorithmIn(components: CdxComponent[]): CdxComponent {
    const found = components.find((c) => c['bom-ref'] === algorithmRef('RSA-2048'));
    if (found === undefined) throw new Error('no algorithm');
    return found;
  }
  function keyIn(components: CdxComponent[]): CdxComponent {
    const found = components.find((c) => c['bom-ref'].startsWith('key:'));
    if (found === undefined) throw new Error('no key');
    return found;
  }

  it('the validator really checks cryptoProperties: each schema-breaking change is rejected', async () => {
    for (const [what, mutate] of mutations) {
      const broken = JSON.parse(json) as CdxDocument;
      mutate(broken.components);
      const validation = await validateCbomJson(JSON.stringify(broken));
      expect(validation.valid, what).toBe(false);
      expect(validation.errors.join('\n'), what).toContain('cryptoProperties');
    }
  });

  it('has unique bom-refs, and every reference (cryptoProperties and dependencies) resolves', () => {
    expect(byRef.size).toBe(doc.components.length);
    for (const component of doc.components) {
      const crypto = cryptoOf(component);
      const refs = [
        crypto.certificateProperties?.signatureAlgorithmRef,
        crypto.certificateProperties?.subjectPublicKeyRef,
        crypto.relatedCryptoMaterialProperties?.algorithmRef,
      ].filter((ref) => ref !== undefined);
      for (const ref of refs) expect(byRef.has(ref), ref).toBe(true);
    }
    for (const dependency of doc.dependencies) {
      expect(byRef.has(dependency.ref)).toBe(true);
      for (const ref of dependency.dependsOn ?? []) expect(byRef.has(ref), ref).toBe(true);
    }
  });

  it('describes each certificate in certificateProperties, its refs leading to an algorithm and a public key', () => {
    for (const finding of [...commandFindings, ...craftedFindings]) {
      const x509 = finding.crypto.x509;
      const component = certificateOf(finding);
      expect(component.name).toBe(finding.object.name);
      const certificate = certificatePropertiesOf(component);
      expect(certificate.subjectName).toBe(x509.subject?.dn);
      expect(certificate.issuerName).toBe(x509.issuer?.dn);
      expect(certificate.notValidBefore).toBe(x509.not_before);
      expect(certificate.notValidAfter).toBe(x509.not_after);
      expect(certificate.certificateFormat).toBe('X.509');
      expect(component.hashes).toEqual([
        { alg: 'SHA-1', content: x509.fingerprints?.sha1 },
        { alg: 'SHA-256', content: x509.fingerprints?.sha256 },
      ]);

      const signature = byRef.get(certificate.signatureAlgorithmRef ?? '');
      algorithmPropertiesOf(signature);
      expect(cryptoOf(signature).oid).toBe(x509.signature?.algorithm_oid);

      const key = byRef.get(certificate.subjectPublicKeyRef ?? '');
      expect(key?.['bom-ref']).toBe(`key:${x509.public_key?.spki_sha256}`);
      const material = materialPropertiesOf(key);
      expect(material.type).toBe('public-key');
      expect(material.id).toBe(x509.public_key?.spki_sha256);
      const keyAlgorithm = byRef.get(material.algorithmRef ?? '');
      algorithmPropertiesOf(keyAlgorithm);
      expect(cryptoOf(keyAlgorithm).oid).toBe(x509.public_key?.algorithm_oid);

      expect(value(component, FINDING_PROPERTY.id)).toBe(finding.id);
      expect(value(component, FINDING_PROPERTY.serialNumber)).toBe(x509.serial_number);
      expect(values(component, FINDING_PROPERTY.rule)).toEqual(
        finding.analysis.rules.map((r) => r.id).sort(),
      );
      expect(value(component, FINDING_PROPERTY.highestSeverity)).toBe(finding.analysis.highest_severity);
      const dependsOn = doc.dependencies.find((d) => d.ref === component['bom-ref'])?.dependsOn ?? [];
      expect(dependsOn).toContain(key?.['bom-ref']);
      expect(dependsOn).toContain(signature?.['bom-ref']);
    }
  });

  it('tells certificate files by extension and Command certificates as DER, keeping where each was found', () => {
    const fromCommand = commandFindings[0];
    const fromFile = craftedFindings[0];
    if (fromCommand === undefined || fromFile === undefined) throw new Error('no findings');
    expect(certificatePropertiesOf(certificateOf(fromCommand)).certificateExtension).toBe('der');
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandCertificateId)).toBe(
      String(fromCommand.observation.source.certificate_id),
    );
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandCertState)).toBe(
      fromCommand.crypto.x509.keyfactor?.cert_state.name,
    );
    expect(certificatePropertiesOf(certificateOf(fromFile)).certificateExtension).toBe('pem');
    expect(value(certificateOf(fromFile), FINDING_PROPERTY.filePath)).toBe('certs/crafted.pem');
  });

  it('represents parse errors as certificates that name the error and reference nothing', () => {
    for (const finding of unreadable) {
      const component = certificateOf(finding);
      const certificate = certificatePropertiesOf(component);
      expect(certificate).toEqual({
        certificateFormat: 'X.509',
        certificateExtension: finding.observation.file === undefined ? 'der' : 'pem',
      });
      expect(value(component, FINDING_PROPERTY.status)).toBe('parse-error');
      expect(value(component, FINDING_PROPERTY.parseErrorReason)).toBe(finding.analysis.parse_error?.reason);
      expect(value(component, FINDING_PROPERTY.parseErrorMessage)).toBe(
        finding.analysis.parse_error?.message,
      );
      expect(values(component, FINDING_PROPERTY.rule)).toContain('KFS-PARSE-001');
      expect(component.hashes).toBeUndefined();
      expect(doc.dependencies.find((d) => d.ref === component['bom-ref'])?.dependsOn).toBeUndefined();
    }
    const fromCommand = unreadable[2];
    if (fromCommand === undefined) throw new Error('missing');
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandCertificateId)).toBe('999001');
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandIssuedDn)).toBe(
      fromCommand.crypto.x509.keyfactor?.issued_dn,
    );
  });

  it('records kfsensor as the tool and says the crypto facts are in cryptoProperties', () => {
    expect(doc.serialNumber).toBe(FIXED.serialNumber);
    expect(doc.metadata.timestamp).toBe(NOW.toISOString());
    expect(doc.metadata.tools.components).toEqual([
      { type: 'application', name: 'kfsensor', version: '9.9.9' },
    ]);
    expect(doc.metadata.properties).toEqual([{ name: CRYPTO_ENCODING_PROPERTY, value: 'cryptoProperties' }]);
  });
});

describe('CBOM algorithms and keys', () => {
  it('has one component per distinct algorithm, shared by every certificate that uses it', () => {
    const names = componentsOfType('algorithm').map((component) => component.name);
    expect(new Set(names).size).toBe(names.length);
    const rsa2048 = commandFindings.filter(
      (f) => f.crypto.x509.public_key?.algorithm === 'RSA' && f.crypto.x509.public_key.key_size_bits === 2048,
    );
    expect(rsa2048.length).toBeGreaterThan(50);
    const keyAlgorithmRefs = new Set(
      rsa2048.map((finding) => {
        const key = byRef.get(certificatePropertiesOf(certificateOf(finding)).subjectPublicKeyRef ?? '');
        return materialPropertiesOf(key).algorithmRef;
      }),
    );
    expect([...keyAlgorithmRefs]).toEqual([algorithmRef('RSA-2048')]);
    const sha256Rsa = commandFindings.filter(
      (f) => f.crypto.x509.signature?.algorithm_name === 'sha256WithRSAEncryption',
    );
    const signatureRefs = new Set(
      sha256Rsa.map((f) => certificatePropertiesOf(certificateOf(f)).signatureAlgorithmRef),
    );
    expect([...signatureRefs]).toEqual([algorithmRef('sha256WithRSAEncryption')]);
  });

  it('gives classical algorithms their primitive, size or curve, classical level and quantum level 0', () => {
    // name, primitive, parameterSetIdentifier, curve, classicalSecurityLevel, oid
    const expectations: [
      string,
      string,
      string | undefined,
      string | undefined,
      number | undefined,
      string,
    ][] = [
      ['RSA-2048', 'pke', '2048', undefined, 112, '1.2.840.113549.1.1.1'],
      ['RSA-3072', 'pke', '3072', undefined, 128, '1.2.840.113549.1.1.1'],
      ['RSA-4096', 'pke', '4096', undefined, 128, '1.2.840.113549.1.1.1'],
      ['EC-P-256', 'signature', '256', 'P-256', 128, '1.2.840.10045.2.1'],
      ['EC-P-384', 'signature', '384', 'P-384', 192, '1.2.840.10045.2.1'],
      ['Ed25519', 'signature', undefined, 'Ed25519', 128, '1.3.101.112'],
      // A classical signature's strength is the issuer key's, which the certificate does not carry.
      ['ecdsa-with-SHA256', 'signature', undefined, undefined, undefined, '1.2.840.10045.4.3.2'],
      ['sha256WithRSAEncryption', 'signature', undefined, undefined, undefined, '1.2.840.113549.1.1.11'],
    ];
    for (const [name, primitive, parameterSet, curve, classical, oid] of expectations) {
      const component = algorithmNamed(name);
      const algorithm = algorithmPropertiesOf(component);
      expect(algorithm.primitive, name).toBe(primitive);
      expect(algorithm.parameterSetIdentifier, name).toBe(parameterSet);
      expect(algorithm.curve, name).toBe(curve);
      expect(algorithm.classicalSecurityLevel, name).toBe(classical);
      expect(algorithm.nistQuantumSecurityLevel, name).toBe(0);
      expect(cryptoOf(component).oid, name).toBe(oid);
    }
    expect(algorithmPropertiesOf(algorithmNamed('RSA-2048')).cryptoFunctions).toEqual([
      'encrypt',
      'decrypt',
      'sign',
      'verify',
    ]);
    expect(algorithmPropertiesOf(algorithmNamed('Ed25519')).cryptoFunctions).toEqual(['sign', 'verify']);
  });

  it('gives post-quantum algorithms their FIPS parameter set, primitive and NIST category', () => {
    // name, primitive, parameterSetIdentifier, nistQuantumSecurityLevel, classicalSecurityLevel
    const expectations: [string, string, string, number, number][] = [
      ['ML-DSA-44', 'signature', '44', 2, 128],
      ['ML-DSA-65', 'signature', '65', 3, 192],
      ['ML-DSA-87', 'signature', '87', 5, 256],
      ['SLH-DSA-SHA2-128s', 'signature', 'SHA2-128s', 1, 128],
      ['SLH-DSA-SHAKE-256f', 'signature', 'SHAKE-256f', 5, 256],
      ['ML-KEM-512', 'kem', '512', 1, 128],
      ['ML-KEM-768', 'kem', '768', 3, 192],
      ['ML-KEM-1024', 'kem', '1024', 5, 256],
    ];
    for (const [name, primitive, parameterSet, category, classical] of expectations) {
      const algorithm = algorithmPropertiesOf(algorithmNamed(name));
      expect(algorithm.primitive, name).toBe(primitive);
      expect(algorithm.parameterSetIdentifier, name).toBe(parameterSet);
      expect(algorithm.nistQuantumSecurityLevel, name).toBe(category);
      expect(algorithm.classicalSecurityLevel, name).toBe(classical);
    }
    expect(algorithmPropertiesOf(algorithmNamed('ML-KEM-768')).cryptoFunctions).toEqual([
      'encapsulate',
      'decapsulate',
    ]);
    expect(cryptoOf(algorithmNamed('ML-DSA-65')).oid).toBe('2.16.840.1.101.3.4.3.18');
  });

  it('says what a certificate cannot know (environment, platform, certification) is unknown; padding where fixed', () => {
    for (const component of componentsOfType('algorithm')) {
      const algorithm = algorithmPropertiesOf(component);
      expect(algorithm.executionEnvironment).toBe('unknown');
      expect(algorithm.implementationPlatform).toBe('unknown');
      expect(algorithm.certificationLevel).toEqual(['unknown']);
      expect(algorithm.mode).toBeUndefined();
    }
    expect(algorithmPropertiesOf(algorithmNamed('sha256WithRSAEncryption')).padding).toBe('pkcs1v15');
    expect(algorithmPropertiesOf(algorithmNamed('sha1WithRSAEncryption')).padding).toBe('pkcs1v15');
    expect(algorithmPropertiesOf(algorithmNamed('ecdsa-with-SHA256')).padding).toBeUndefined();
    expect(algorithmPropertiesOf(algorithmNamed('RSA-2048')).padding).toBeUndefined();
    const unknown = algorithmPropertiesOf(algorithmNamed('1.2.3.4.99'));
    expect(unknown.primitive).toBe('unknown');
    expect(unknown.cryptoFunctions).toEqual(['unknown']);
    expect(unknown.nistQuantumSecurityLevel).toBeUndefined();
  });

  it('agrees with each finding about its key levels', () => {
    for (const finding of [...commandFindings, ...craftedFindings]) {
      const pqc = finding.analysis.pqc;
      const key = byRef.get(certificatePropertiesOf(certificateOf(finding)).subjectPublicKeyRef ?? '');
      const algorithm = algorithmPropertiesOf(byRef.get(materialPropertiesOf(key).algorithmRef ?? ''));
      expect(algorithm.nistQuantumSecurityLevel).toBe(pqc?.nist_quantum_security_level);
      expect(algorithm.classicalSecurityLevel).toBe(pqc?.classical_security_level ?? undefined);
    }
  });

  it('describes public keys as related crypto material by size and algorithm, once per distinct key', () => {
    const keyComponents = componentsOfType('related-crypto-material');
    const distinctKeys = new Set(findings.flatMap((f) => f.crypto.x509.public_key?.spki_sha256 ?? []));
    expect(keyComponents).toHaveLength(distinctKeys.size);
    expect(keyComponents.every((c) => c['bom-ref'].startsWith('key:'))).toBe(true);
    const finding = findingWhere((f) => f.crypto.x509.public_key?.curve === 'P-384', 'a P-384 key');
    const spki = finding.crypto.x509.public_key?.spki_sha256 ?? '';
    const key = byRef.get(`key:${spki}`);
    expect(materialPropertiesOf(key)).toEqual({
      type: 'public-key',
      id: spki,
      algorithmRef: algorithmRef('EC-P-384'),
      size: 384,
    });
    expect(key?.hashes).toEqual([{ alg: 'SHA-256', content: spki }]);
  });

  it('never carries public key bytes', () => {
    for (const key of componentsOfType('related-crypto-material')) {
      expect(materialPropertiesOf(key).value).toBeUndefined();
    }
    const inventory = generateInventory({ seed: 11, count: 40, now: NOW });
    for (const certificate of inventory) {
      const spki = new X509Certificate(
        Buffer.from(certificate.ContentBytes ?? '', 'base64'),
      ).publicKey.export({
        type: 'spki',
        format: 'der',
      });
      // The last 32 bytes are inside the key value for every algorithm the generator makes; hex is the only
      // binary-to-text form the document uses (fingerprints, SPKI hashes).
      const tail = spki.subarray(spki.length - 32);
      expect(json).not.toContain(tail.toString('hex'));
      expect(json).not.toContain(tail.toString('base64'));
    }
  });
});

describe('CBOM stability', () => {
  it('gives byte-identical text for the same findings in any order', () => {
    expect(findingsToCbomJson([...findings].reverse(), FIXED)).toBe(json);
    for (const seed of [1, 2, 3])
      expect(findingsToCbomJson(shuffled(findings, seed), FIXED), `seed ${seed}`).toBe(json);
  });

  it('differs only in serialNumber and timestamp when those are not fixed', () => {
    const other = findingsToCbomJson(findings, { timestamp: new Date('2030-01-01T00:00:00Z') });
    const strip = (text: string) =>
      text.replace(/"serialNumber": "[^"]+"/, '').replace(/"timestamp": "[^"]+"/, '');
    expect(strip(other)).toBe(strip(json));
    expect(other).not.toBe(json);
    expect((JSON.parse(other) as CdxDocument).serialNumber).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('merges the same certificate found twice into one component listing both places, in any order', async () => {
    const finding = craftedFindings[0];
    const der = craftedDers[0];
    if (finding === undefined || der === undefined) throw new Error('none');
    const elsewhere = analyseDer(der, { ...fileContext, filePath: 'other/copy.crt' });
    expect(elsewhere.id).toBe(finding.id);
    const text = findingsToCbomJson([finding, elsewhere], FIXED);
    expect(findingsToCbomJson([elsewhere, finding], FIXED)).toBe(text);
    expect((await validateCbomJson(text)).errors).toEqual([]);
    const merged = JSON.parse(text) as CdxDocument;
    const certificates = merged.components.filter((c) => c['bom-ref'].startsWith('cert:'));
    expect(certificates).toHaveLength(1);
    expect(values(certificates[0], FINDING_PROPERTY.filePath)).toEqual([
      'certs/crafted.pem',
      'other/copy.crt',
    ]);
    // One extension must be chosen; it is the one of the path that sorts first, whatever the order.
    expect(certificatePropertiesOf(certificates[0]).certificateExtension).toBe('pem');
  });

  it('merges Command records of the same certificate the same way whatever their order', () => {
    const inventory = generateInventory({ seed: 11, count: 1, now: NOW });
    const record = inventory[0];
    if (record === undefined) throw new Error('none');
    const a = analyseCertificate({ ...record, Id: 7, TemplateName: 'First' }, commandContext);
    const b = analyseCertificate({ ...record, Id: 5, TemplateName: 'Second' }, commandContext);
    expect(a.id).toBe(b.id);
    const text = findingsToCbomJson([a, b], FIXED);
    expect(findingsToCbomJson([b, a], FIXED)).toBe(text);
    const certificate = (JSON.parse(text) as CdxDocument).components.find(
      (c) => c['bom-ref'] === `cert:${a.id}`,
    );
    expect(values(certificate, FINDING_PROPERTY.commandCertificateId)).toEqual(['5', '7']);
    // The lowest Command id speaks for the certificate.
    expect(value(certificate, FINDING_PROPERTY.commandTemplate)).toBe('Second');
  });

  it('is a valid empty CBOM for no findings', async () => {
    const empty = findingsToCbomJson([], FIXED);
    expect((await validateCbomJson(empty)).errors).toEqual([]);
    expect((JSON.parse(empty) as CdxDocument).metadata.tools.components).toEqual([
      { type: 'application', name: 'kfsensor' },
    ]);
  });
});

describe('cryptoProperties typing and attachment (cbom-crypto)', () => {
  it('mirrors every enum of the 1.6 schema cryptoProperties definition exactly', () => {
    const library = path.dirname(
      createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json'),
    );
    interface SchemaNode {
      enum?: string[];
      items?: SchemaNode;
      properties?: Record<string, SchemaNode>;
    }
    const schema = JSON.parse(
      readFileSync(path.join(library, 'res/schema/bom-1.6.SNAPSHOT.schema.json'), 'utf8'),
    ) as { definitions: Record<string, SchemaNode> };
    const crypto = schema.definitions.cryptoProperties?.properties ?? {};
    const algorithm = crypto.algorithmProperties?.properties ?? {};
    const material = crypto.relatedCryptoMaterialProperties?.properties ?? {};
    expect(crypto.assetType?.enum).toEqual([...CRYPTO_ASSET_TYPES]);
    expect(algorithm.primitive?.enum).toEqual([...CRYPTO_PRIMITIVES]);
    expect(algorithm.executionEnvironment?.enum).toEqual([...CRYPTO_EXECUTION_ENVIRONMENTS]);
    expect(algorithm.implementationPlatform?.enum).toEqual([...CRYPTO_IMPLEMENTATION_PLATFORMS]);
    expect(algorithm.certificationLevel?.items?.enum).toEqual([...CRYPTO_CERTIFICATION_LEVELS]);
    expect(algorithm.mode?.enum).toEqual([...CRYPTO_MODES]);
    expect(algorithm.padding?.enum).toEqual([...CRYPTO_PADDINGS]);
    expect(algorithm.cryptoFunctions?.items?.enum).toEqual([...CRYPTO_FUNCTIONS]);
    expect(material.type?.enum).toEqual([...RELATED_CRYPTO_MATERIAL_TYPES]);
    expect(material.state?.enum).toEqual([...RELATED_CRYPTO_MATERIAL_STATES]);
    expect(crypto.protocolProperties?.properties?.type?.enum).toEqual([...CRYPTO_PROTOCOL_TYPES]);
    expect(Object.keys(crypto).sort()).toEqual(
      [
        'algorithmProperties',
        'assetType',
        'certificateProperties',
        'oid',
        'protocolProperties',
        'relatedCryptoMaterialProperties',
      ].sort(),
    );
  });

  it('refuses to lose crypto facts: a crypto asset missing from the normalized BOM is an error', () => {
    const bom = buildCbom(craftedFindings.slice(0, 3), FIXED);
    const normalizer = new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6).makeForBom();
    const complete = normalizer.normalize(bom, { sortLists: true });
    expect(() => attachCryptoProperties(complete, bom)).not.toThrow();
    const partial = normalizer.normalize(bom, { sortLists: true });
    partial.components = partial.components?.slice(1);
    expect(() => attachCryptoProperties(partial, bom)).toThrow(/missing from the normalized BOM/);
  });
});

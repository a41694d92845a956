// The CBOM exporter: strict CycloneDX 1.6 validity, references that resolve, shared algorithms and keys, correct levels.
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseCertificate, analyseDer } from '#shared/findings/index';
import type { AnalysisContext, Finding } from '#shared/findings/index';
import {
  CRYPTO_ENCODING_PROPERTY,
  CRYPTO_PROPERTY,
  FINDING_PROPERTY,
  algorithmRef,
  findingsToCbomJson,
  validateCbomJson,
} from '#shared/export/index';
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

const REF_PROPERTIES = [
  CRYPTO_PROPERTY.signatureAlgorithmRef,
  CRYPTO_PROPERTY.subjectPublicKeyRef,
  CRYPTO_PROPERTY.materialAlgorithmRef,
];

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

describe('CBOM document', () => {
  it('passes the library strict CycloneDX 1.6 validator with zero errors, parse errors included', async () => {
    expect(unreadable.every((finding) => finding.analysis.status === 'parse-error')).toBe(true);
    const validation = await validateCbomJson(json);
    expect(validation.errors).toEqual([]);
    expect(validation.valid).toBe(true);
    expect(doc.bomFormat).toBe('CycloneDX');
    expect(doc.specVersion).toBe('1.6');
  });

  it('the validator really rejects a broken document (so the test above means something)', async () => {
    const broken = JSON.parse(json) as { components: Record<string, unknown>[] };
    const first = broken.components[0];
    if (first === undefined) throw new Error('no components');
    first.type = 'certificate';
    const validation = await validateCbomJson(JSON.stringify(broken));
    expect(validation.valid).toBe(false);
    expect(validation.errors.length).toBeGreaterThan(0);
  });

  it('has unique bom-refs, and every reference (properties and dependencies) resolves to a component', () => {
    expect(byRef.size).toBe(doc.components.length);
    for (const component of doc.components) {
      for (const name of REF_PROPERTIES) {
        for (const ref of values(component, name)) expect(byRef.has(ref), `${name} ${ref}`).toBe(true);
      }
    }
    for (const dependency of doc.dependencies) {
      expect(byRef.has(dependency.ref)).toBe(true);
      for (const ref of dependency.dependsOn ?? []) expect(byRef.has(ref), ref).toBe(true);
    }
  });

  it('gives each certificate a component with its fingerprints, names, dates, key and signature', () => {
    const distinctIds = new Set(findings.map((finding) => finding.id));
    expect(doc.components.filter((c) => c['bom-ref'].startsWith('cert:'))).toHaveLength(distinctIds.size);
    for (const finding of [...commandFindings, ...craftedFindings]) {
      const x509 = finding.crypto.x509;
      const component = certificateOf(finding);
      expect(component.type).toBe('cryptographic-asset');
      expect(component.name).toBe(finding.object.name);
      expect(value(component, CRYPTO_PROPERTY.assetType)).toBe('certificate');
      expect(value(component, CRYPTO_PROPERTY.subjectName)).toBe(x509.subject?.dn);
      expect(value(component, CRYPTO_PROPERTY.issuerName)).toBe(x509.issuer?.dn);
      expect(value(component, CRYPTO_PROPERTY.notValidBefore)).toBe(x509.not_before);
      expect(value(component, CRYPTO_PROPERTY.notValidAfter)).toBe(x509.not_after);
      expect(value(component, CRYPTO_PROPERTY.certificateFormat)).toBe('X.509');
      expect(component.hashes).toEqual([
        { alg: 'SHA-1', content: x509.fingerprints?.sha1 },
        { alg: 'SHA-256', content: x509.fingerprints?.sha256 },
      ]);
      const signature = byRef.get(value(component, CRYPTO_PROPERTY.signatureAlgorithmRef) ?? '');
      expect(value(signature, CRYPTO_PROPERTY.oid)).toBe(x509.signature?.algorithm_oid);
      const key = byRef.get(value(component, CRYPTO_PROPERTY.subjectPublicKeyRef) ?? '');
      expect(key?.['bom-ref']).toBe(`key:${x509.public_key?.spki_sha256}`);
      expect(values(component, FINDING_PROPERTY.rule)).toEqual(
        finding.analysis.rules.map((r) => r.id).sort(),
      );
      expect(value(component, FINDING_PROPERTY.highestSeverity)).toBe(finding.analysis.highest_severity);
      const dependsOn = doc.dependencies.find((d) => d.ref === component['bom-ref'])?.dependsOn ?? [];
      expect(dependsOn).toContain(key?.['bom-ref']);
      expect(dependsOn).toContain(signature?.['bom-ref']);
    }
  });

  it('tells certificate files by extension and Command certificates as DER', () => {
    const fromCommand = commandFindings[0];
    const fromFile = craftedFindings[0];
    if (fromCommand === undefined || fromFile === undefined) throw new Error('no findings');
    expect(value(certificateOf(fromCommand), CRYPTO_PROPERTY.certificateExtension)).toBe('der');
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandCertificateId)).toBe(
      String(fromCommand.observation.source.certificate_id),
    );
    expect(value(certificateOf(fromFile), CRYPTO_PROPERTY.certificateExtension)).toBe('pem');
    expect(value(certificateOf(fromFile), FINDING_PROPERTY.filePath)).toBe('certs/crafted.pem');
  });

  it('represents parse errors as certificate components that name the error and reference nothing', () => {
    for (const finding of unreadable) {
      const component = certificateOf(finding);
      expect(value(component, CRYPTO_PROPERTY.assetType)).toBe('certificate');
      expect(value(component, FINDING_PROPERTY.status)).toBe('parse-error');
      expect(value(component, FINDING_PROPERTY.parseErrorReason)).toBe(finding.analysis.parse_error?.reason);
      expect(value(component, FINDING_PROPERTY.parseErrorMessage)).toBe(
        finding.analysis.parse_error?.message,
      );
      expect(values(component, FINDING_PROPERTY.rule)).toContain('KFS-PARSE-001');
      expect(value(component, CRYPTO_PROPERTY.signatureAlgorithmRef)).toBeUndefined();
      expect(value(component, CRYPTO_PROPERTY.subjectPublicKeyRef)).toBeUndefined();
      expect(component.hashes).toBeUndefined();
    }
    const fromCommand = unreadable[2];
    if (fromCommand === undefined) throw new Error('missing');
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandCertificateId)).toBe('999001');
    expect(value(certificateOf(fromCommand), FINDING_PROPERTY.commandIssuedDn)).toBe(
      fromCommand.crypto.x509.keyfactor?.issued_dn,
    );
  });

  it('records kfsensor as the tool and says where the crypto fields are', () => {
    expect(doc.serialNumber).toBe(FIXED.serialNumber);
    expect(doc.metadata.timestamp).toBe(NOW.toISOString());
    expect(doc.metadata.tools.components).toEqual([
      { type: 'application', name: 'kfsensor', version: '9.9.9' },
    ]);
    expect(doc.metadata.properties).toContainEqual({ name: CRYPTO_ENCODING_PROPERTY, value: 'properties' });
  });
});

describe('CBOM algorithms and keys', () => {
  it('has one component per distinct algorithm, shared by every certificate that uses it', () => {
    const algorithms = doc.components.filter((c) => value(c, CRYPTO_PROPERTY.assetType) === 'algorithm');
    const names = algorithms.map((component) => component.name);
    expect(new Set(names).size).toBe(names.length);
    const rsa2048 = commandFindings.filter(
      (f) => f.crypto.x509.public_key?.algorithm === 'RSA' && f.crypto.x509.public_key.key_size_bits === 2048,
    );
    expect(rsa2048.length).toBeGreaterThan(50);
    const keyAlgorithmRefs = new Set(
      rsa2048.map((finding) => {
        const key = byRef.get(value(certificateOf(finding), CRYPTO_PROPERTY.subjectPublicKeyRef) ?? '');
        return value(key, CRYPTO_PROPERTY.materialAlgorithmRef);
      }),
    );
    expect([...keyAlgorithmRefs]).toEqual([algorithmRef('RSA-2048')]);
    const sha256Rsa = commandFindings.filter(
      (f) => f.crypto.x509.signature?.algorithm_name === 'sha256WithRSAEncryption',
    );
    const signatureRefs = new Set(
      sha256Rsa.map((f) => value(certificateOf(f), CRYPTO_PROPERTY.signatureAlgorithmRef)),
    );
    expect([...signatureRefs]).toEqual([algorithmRef('sha256WithRSAEncryption')]);
  });

  it('describes RSA, EC and Ed25519 keys with their primitive, size or curve and security levels', () => {
    const rsa = algorithmNamed('RSA-2048');
    expect(value(rsa, CRYPTO_PROPERTY.primitive)).toBe('pke');
    expect(value(rsa, CRYPTO_PROPERTY.parameterSetIdentifier)).toBe('2048');
    expect(value(rsa, CRYPTO_PROPERTY.classicalSecurityLevel)).toBe('112');
    expect(value(rsa, CRYPTO_PROPERTY.nistQuantumSecurityLevel)).toBe('0');
    expect(value(rsa, CRYPTO_PROPERTY.oid)).toBe('1.2.840.113549.1.1.1');
    expect(value(algorithmNamed('RSA-4096'), CRYPTO_PROPERTY.classicalSecurityLevel)).toBe('128');

    const p256 = algorithmNamed('EC-P-256');
    expect(value(p256, CRYPTO_PROPERTY.primitive)).toBe('signature');
    expect(value(p256, CRYPTO_PROPERTY.curve)).toBe('P-256');
    expect(value(p256, CRYPTO_PROPERTY.classicalSecurityLevel)).toBe('128');
    expect(value(p256, CRYPTO_PROPERTY.nistQuantumSecurityLevel)).toBe('0');
    expect(value(algorithmNamed('EC-P-384'), CRYPTO_PROPERTY.classicalSecurityLevel)).toBe('192');

    const ed25519 = algorithmNamed('Ed25519');
    expect(value(ed25519, CRYPTO_PROPERTY.primitive)).toBe('signature');
    expect(value(ed25519, CRYPTO_PROPERTY.curve)).toBe('Ed25519');
    expect(values(ed25519, CRYPTO_PROPERTY.cryptoFunctions)).toEqual(['sign', 'verify']);
    expect(value(ed25519, CRYPTO_PROPERTY.classicalSecurityLevel)).toBe('128');
    expect(value(ed25519, CRYPTO_PROPERTY.nistQuantumSecurityLevel)).toBe('0');
  });

  it('gives post-quantum algorithms their FIPS parameter set and NIST category', () => {
    const expectations: [string, string, string, string, string][] = [
      ['ML-DSA-44', 'signature', '44', '2', '128'],
      ['ML-DSA-65', 'signature', '65', '3', '192'],
      ['ML-DSA-87', 'signature', '87', '5', '256'],
      ['SLH-DSA-SHA2-128s', 'signature', 'SHA2-128s', '1', '128'],
      ['ML-KEM-768', 'kem', '768', '3', '192'],
      ['ML-KEM-1024', 'kem', '1024', '5', '256'],
    ];
    for (const [name, primitive, parameterSet, category, classical] of expectations) {
      const algorithm = algorithmNamed(name);
      expect(value(algorithm, CRYPTO_PROPERTY.primitive), name).toBe(primitive);
      expect(value(algorithm, CRYPTO_PROPERTY.parameterSetIdentifier), name).toBe(parameterSet);
      expect(value(algorithm, CRYPTO_PROPERTY.nistQuantumSecurityLevel), name).toBe(category);
      expect(value(algorithm, CRYPTO_PROPERTY.classicalSecurityLevel), name).toBe(classical);
    }
    expect(values(algorithmNamed('ML-KEM-768'), CRYPTO_PROPERTY.cryptoFunctions)).toEqual([
      'decapsulate',
      'encapsulate',
    ]);
  });

  it('agrees with each finding about its key levels', () => {
    for (const finding of [...commandFindings, ...craftedFindings]) {
      const pqc = finding.analysis.pqc;
      const key = byRef.get(value(certificateOf(finding), CRYPTO_PROPERTY.subjectPublicKeyRef) ?? '');
      const algorithm = byRef.get(value(key, CRYPTO_PROPERTY.materialAlgorithmRef) ?? '');
      expect(value(algorithm, CRYPTO_PROPERTY.nistQuantumSecurityLevel)).toBe(
        pqc === null ? undefined : String(pqc.nist_quantum_security_level),
      );
      expect(value(algorithm, CRYPTO_PROPERTY.classicalSecurityLevel)).toBe(
        pqc?.classical_security_level == null ? undefined : String(pqc.classical_security_level),
      );
    }
  });

  it('leaves the classical level of an RSA or ECDSA signature out: it depends on the issuer key', () => {
    const signature = algorithmNamed('sha256WithRSAEncryption');
    expect(value(signature, CRYPTO_PROPERTY.primitive)).toBe('signature');
    expect(value(signature, CRYPTO_PROPERTY.nistQuantumSecurityLevel)).toBe('0');
    expect(value(signature, CRYPTO_PROPERTY.classicalSecurityLevel)).toBeUndefined();
    expect(value(algorithmNamed('1.2.3.4.99'), CRYPTO_PROPERTY.primitive)).toBe('unknown');
  });

  it('describes public keys as related crypto material by size and algorithm, once per distinct key', () => {
    const keyComponents = doc.components.filter((c) => c['bom-ref'].startsWith('key:'));
    const distinctKeys = new Set(findings.flatMap((f) => f.crypto.x509.public_key?.spki_sha256 ?? []));
    expect(keyComponents).toHaveLength(distinctKeys.size);
    const finding = findingWhere((f) => f.crypto.x509.public_key?.curve === 'P-384', 'a P-384 key');
    const key = byRef.get(`key:${finding.crypto.x509.public_key?.spki_sha256}`);
    expect(value(key, CRYPTO_PROPERTY.assetType)).toBe('related-crypto-material');
    expect(value(key, CRYPTO_PROPERTY.materialType)).toBe('public-key');
    expect(value(key, CRYPTO_PROPERTY.materialSize)).toBe('384');
    expect(value(key, CRYPTO_PROPERTY.materialAlgorithmRef)).toBe(algorithmRef('EC-P-384'));
  });

  it('never carries public key bytes', () => {
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
    }
  });
});

describe('CBOM stability', () => {
  it('gives the same text for the same findings in any order, apart from serialNumber and timestamp', () => {
    const reversed = findingsToCbomJson([...findings].reverse(), FIXED);
    expect(reversed).toBe(json);
    const other = findingsToCbomJson(findings, { timestamp: new Date('2030-01-01T00:00:00Z') });
    const strip = (text: string) =>
      text.replace(/"serialNumber": "[^"]+"/, '').replace(/"timestamp": "[^"]+"/, '');
    expect(strip(other)).toBe(strip(json));
    expect(other).not.toBe(json);
    expect((JSON.parse(other) as CdxDocument).serialNumber).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('merges the same certificate found twice into one component listing both places', () => {
    const finding = craftedFindings[0];
    const der = craftedDers[0];
    if (finding === undefined || der === undefined) throw new Error('none');
    const elsewhere = analyseDer(der, { ...fileContext, filePath: 'other/copy.crt' });
    expect(elsewhere.id).toBe(finding.id);
    const merged = JSON.parse(findingsToCbomJson([finding, elsewhere], FIXED)) as CdxDocument;
    const certificates = merged.components.filter((c) => c['bom-ref'].startsWith('cert:'));
    expect(certificates).toHaveLength(1);
    expect(values(certificates[0], FINDING_PROPERTY.filePath)).toEqual([
      'certs/crafted.pem',
      'other/copy.crt',
    ]);
  });

  it('is a valid empty CBOM for no findings', async () => {
    const empty = findingsToCbomJson([], FIXED);
    expect((await validateCbomJson(empty)).errors).toEqual([]);
  });
});

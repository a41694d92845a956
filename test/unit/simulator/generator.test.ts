// Generator tests: reproducible output, Command attributes that agree with the DER (read back by @peculiar/x509,
// node:crypto and the openssl CLI), a CA hierarchy whose signatures verify, and the mix and option rules.
// @peculiar/x509's tsyringe dependency needs the Reflect metadata API.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { X509Certificate as NodeX509Certificate, createHash, createPublicKey, verify } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist';
import type * as PeculiarX509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import { CommandCertificateSchema } from '#shared/keyfactor/model';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { time } from '#shared/simulator/generator/der';
import { EC_CURVES, bytesToBigInt, signEcdsaDigest } from '#shared/simulator/generator/ecdsa';
import {
  DEFAULT_NOW,
  GeneratorOptionsError,
  commandValueHash,
  generateCertificates,
  generateInventory,
  generateJsonLines,
  generateSimulatedCertificates,
  simulatedCaCertificates,
} from '#shared/simulator/generator/index';
import type { GenerateOptions, GeneratedCertificate } from '#shared/simulator/generator/index';
import { generateJsonLinesParallel } from '#shared/simulator/generator/parallel';
import { arrayBufferView } from '#shared/bytes';

const DAY = 86_400_000;

let x509: typeof PeculiarX509;

beforeAll(async () => {
  x509 = await import('@peculiar/x509');
});

function generated(options: GenerateOptions): GeneratedCertificate[] {
  return Array.from(generateSimulatedCertificates(options));
}

/** Splits an RFC 4514 string on unescaped separators into [type, unescaped value] pairs. */
function parseDn(dn: string, separator: string): Array<[string, string]> {
  if (dn === '') return [];
  const pattern = separator === ', ' ? /(?<!\\), / : /(?<!\\),/;
  return dn.split(pattern).map((part) => {
    const at = part.indexOf('=');
    return [part.slice(0, at), part.slice(at + 1).replace(/\\(.)/g, '$1')];
  });
}

/** The same DN as @peculiar/x509 reads it from DER (DER order), turned into RFC 4514 order. */
function peculiarDn(name: PeculiarX509.Name): Array<[string, string]> {
  return name
    .toJSON()
    .map((rdn) => {
      const [type, values] = Object.entries(rdn)[0] ?? ['?', []];
      return [type, values[0] ?? ''] as [string, string];
    })
    .reverse();
}

/** A SAN as [Command type, value], with IPv6 addresses in one canonical text form whoever printed them. */
function sanPair(type: number | undefined, value: string): [number | undefined, string] {
  const ipv6 = type === 7 && value.includes(':');
  return [type, ipv6 ? new URL(`http://[${value}]/`).hostname.slice(1, -1) : value];
}

const PECULIAR_SAN_TYPES: Record<string, number> = { dns: 2, email: 1, url: 6, ip: 7, upn: 100 };

// peculiar's KeyUsageFlags bit → the .NET X509KeyUsageFlags value Command reports.
const PECULIAR_TO_DOTNET_KEY_USAGE: Array<[number, number, string]> = [
  [1, 0x80, 'DigitalSignature'],
  [2, 0x40, 'NonRepudiation'],
  [4, 0x20, 'KeyEncipherment'],
  [8, 0x10, 'DataEncipherment'],
  [16, 0x08, 'KeyAgreement'],
  [32, 0x04, 'KeyCertSign'],
  [64, 0x02, 'CrlSign'],
  [128, 0x01, 'EncipherOnly'],
  [256, 0x8000, 'DecipherOnly'],
];

const CURVE_OIDS: Record<string, string> = {
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',
};

function nameOf(value: unknown): string {
  return typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string'
    ? value.name
    : '?';
}

function peculiarSignatureName(algorithm: object): string {
  const name = nameOf(algorithm);
  if (name === 'Ed25519') return 'Ed25519';
  const family = name === 'ECDSA' ? 'ECDSA' : name === 'RSASSA-PKCS1-v1_5' ? 'RSA' : '?';
  return `${nameOf('hash' in algorithm ? algorithm.hash : null)}with${family}`;
}

const SECONDS_FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MILLISECONDS_FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('generateCertificates', () => {
  it('is reproducible: same options, byte-identical JSON; another seed, other leaves but the same CAs', () => {
    const options = { seed: 424242, count: 120, now: new Date('2026-03-01T12:00:00Z') };
    const first = JSON.stringify(generateInventory(options));
    const second = JSON.stringify(Array.from(generateCertificates(options)));
    expect(second).toBe(first);

    const other = generateInventory({ ...options, seed: 424243 });
    const original = generateInventory(options);
    expect(other.slice(0, 8).map((c) => c.ContentBytes)).toEqual(
      original.slice(0, 8).map((c) => c.ContentBytes),
    );
    const sameLeaves = other
      .slice(8)
      .filter((c, index) => c.ContentBytes === original[index + 8]?.ContentBytes);
    expect(sameLeaves).toHaveLength(0);
  });

  it('makes certificate N depend only on the options and N, and workers reproduce the sequential bytes', async () => {
    const options = { seed: 99, count: 150 };
    const all = generateJsonLines(options, 0, 150).split('\n');
    expect(generateJsonLines(options, 60, 90).split('\n').slice(0, -1)).toEqual(all.slice(60, 90));

    let parallel = '';
    for await (const block of generateJsonLinesParallel(options, { workers: 2, chunkSize: 37 }))
      parallel += block;
    expect(parallel).toBe(all.join('\n'));
  });

  it('is lazy: taking the first certificates of a huge inventory does not build the rest', () => {
    const started = Date.now();
    const taken: CommandCertificate[] = [];
    for (const certificate of generateCertificates({ seed: 1, count: 1_000_000 })) {
      taken.push(certificate);
      if (taken.length === 20) break;
    }
    expect(taken.map((c) => c.Id)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('lists the CA hierarchy first as CertState 6 and numbers Ids from startId in ImportDate order', () => {
    const inventory = generateInventory({ seed: 5, count: 60, startId: 1000 });
    expect(inventory.map((c) => c.Id)).toEqual(Array.from({ length: 60 }, (_, index) => 1000 + index));
    const cas = inventory.slice(0, 8);
    expect(cas.every((c) => c.CertState === 6 && c.CertStateString === 'Certificate Authority (6)')).toBe(
      true,
    );
    expect(cas.every((c) => c.IsCACertificate === true)).toBe(true);
    expect(inventory.slice(8).some((c) => c.CertState === 6)).toBe(false);
    const imports = inventory.map((c) => Date.parse(c.ImportDate));
    expect(imports).toEqual([...imports].sort((a, b) => a - b));
    expect(Math.min(...imports)).toBeGreaterThanOrEqual(DEFAULT_NOW.getTime() - 90 * DAY);
    expect(Math.max(...imports)).toBeLessThanOrEqual(DEFAULT_NOW.getTime());

    const appended = generateInventory({
      seed: 6,
      count: 10,
      startId: 1060,
      includeCaCertificates: false,
      now: new Date(DEFAULT_NOW.getTime() + 7 * DAY),
      importWindow: {
        from: new Date(Math.max(...imports) + 1),
        to: new Date(DEFAULT_NOW.getTime() + 7 * DAY),
      },
    });
    expect(appended.some((c) => c.CertState === 6)).toBe(false);
    expect(appended[0]?.Id).toBe(1060);
    expect(Date.parse(appended[0]?.ImportDate ?? '')).toBeGreaterThan(Math.max(...imports));
  });

  it('keeps every Command attribute in agreement with the DER for a few hundred certificates', () => {
    const now = new Date('2026-02-15T08:30:00Z');
    const certificates = generated({ seed: 20260101, count: 320, now });
    const caByLabel = new Map(
      simulatedCaCertificates().map((ca) => [ca.label, new NodeX509Certificate(ca.der)] as const),
    );
    const schemaKeys = Object.keys(CommandCertificateSchema.shape);
    const seenKeyKinds = new Set<string>();
    const seenSignatures = new Set<string>();

    for (const { certificate: c, der, traits } of certificates) {
      const context = `Id ${c.Id}`;
      expect(Buffer.from(c.ContentBytes, 'base64').equals(der), context).toBe(true);
      expect(CommandCertificateSchema.safeParse(c).success, context).toBe(true);
      expect(Object.keys(c), context).toEqual(expect.arrayContaining(schemaKeys));

      const cert = new x509.X509Certificate(arrayBufferView(der));
      const node = new NodeX509Certificate(der);

      expect(c.Thumbprint, context).toBe(createHash('sha1').update(der).digest('hex').toUpperCase());
      expect(c.Thumbprint, context).toBe(node.fingerprint.replaceAll(':', ''));
      // Serial: DER INTEGER content octets; a 00 pad only when the top bit of the magnitude is set.
      const serialWithoutPad = c.SerialNumber.replace(/^00(?=[89A-F])/, '');
      expect(serialWithoutPad.toLowerCase(), context).toBe(cert.serialNumber);
      expect(c.SerialNumber.startsWith('00'), context).toBe(/^[89A-F]/.test(serialWithoutPad));
      expect(c.SerialNumber, context).toMatch(/^[0-9A-F]+$/);

      expect(parseDn(c.IssuedDN ?? '', ', '), context).toEqual(peculiarDn(cert.subjectName));
      expect(parseDn(c.IssuerDN ?? '', ', '), context).toEqual(peculiarDn(cert.issuerName));
      expect(c.IssuedCN, context).toBe(cert.subjectName.getField('CN')[0] ?? null);
      expect(c.IssuedOU, context).toBe(cert.subjectName.getField('OU')[0] ?? null);
      expect(c.IssuedEmail, context).toBe(cert.subjectName.getField('E')[0] ?? null);

      expect(c.NotBefore, context).toMatch(SECONDS_FORMAT);
      expect(c.NotAfter, context).toMatch(SECONDS_FORMAT);
      expect(c.ImportDate, context).toMatch(MILLISECONDS_FORMAT);
      expect(c.NotBefore, context).toBe(cert.notBefore.toISOString().replace('.000Z', 'Z'));
      expect(c.NotAfter, context).toBe(cert.notAfter.toISOString().replace('.000Z', 'Z'));

      const keyType = node.publicKey.asymmetricKeyType;
      const details = node.publicKey.asymmetricKeyDetails ?? {};
      if (keyType === 'rsa') {
        expect([c.KeyType, c.KeyTypeString, c.KeySizeInBits, c.Curve], context).toEqual([
          1,
          'RSA',
          details.modulusLength,
          null,
        ]);
      } else if (keyType === 'ec') {
        const curveOid = CURVE_OIDS[details.namedCurve ?? ''];
        const bits = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }[details.namedCurve ?? ''];
        expect([c.KeyType, c.KeyTypeString, c.KeySizeInBits, c.Curve], context).toEqual([
          3,
          'ECC',
          bits,
          curveOid,
        ]);
      } else {
        expect(keyType, context).toBe('ed25519');
        expect([c.KeyType, c.KeyTypeString, c.KeySizeInBits, c.Curve], context).toEqual([
          6,
          'Ed25519',
          255,
          null,
        ]);
      }
      expect(c.SigningAlgorithm, context).toBe(peculiarSignatureName(cert.signatureAlgorithm));
      seenKeyKinds.add(`${c.KeyTypeString}-${c.KeySizeInBits}`);
      seenSignatures.add(c.SigningAlgorithm);

      const sans = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
      expect(
        (c.SubjectAltNameElements ?? []).map((element) => sanPair(element.Type, element.Value)),
        context,
      ).toEqual(sans.map((name) => sanPair(PECULIAR_SAN_TYPES[name.type], name.value)));
      for (const element of c.SubjectAltNameElements ?? []) {
        const utf16 = Buffer.from(element.Value, 'utf16le');
        expect(element.ValueHash, context).toBe(createHash('md5').update(utf16).digest('hex').toUpperCase());
      }

      const ekus = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
      expect(
        (c.ExtendedKeyUsages ?? []).map((eku) => eku.Oid),
        context,
      ).toEqual([...ekus]);
      expect((c.ExtendedKeyUsages ?? []).every((eku) => eku.DisplayName && eku.DisplayName !== eku.Oid)).toBe(
        true,
      );

      const usageFlags = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
      let dotnetFlags = 0;
      for (const [peculiarBit, dotnetBit, detailName] of PECULIAR_TO_DOTNET_KEY_USAGE) {
        const set = (usageFlags & peculiarBit) !== 0;
        if (set) dotnetFlags |= dotnetBit;
        expect(c.DetailedKeyUsage?.[detailName], `${context} ${detailName}`).toBe(set);
      }
      expect(c.KeyUsage, context).toBe(dotnetFlags);
      expect(c.DetailedKeyUsage?.HexCode, context).toBe(dotnetFlags.toString(16).padStart(2, '0'));

      const basic = cert.getExtension(x509.BasicConstraintsExtension);
      expect(c.IsCACertificate, context).toBe(basic?.ca ?? false);
      expect(c.PathLengthConstraint, context).toBe(basic?.pathLength ?? null);

      const crlUrls = (
        cert.getExtension(x509.CRLDistributionPointsExtension)?.distributionPoints ?? []
      ).flatMap((point) =>
        (point.distributionPoint?.fullName ?? []).map((name) => name.uniformResourceIdentifier),
      );
      expect(
        (c.CRLDistributionPoints ?? []).map((point) => point.Url),
        context,
      ).toEqual(crlUrls);
      for (const point of c.CRLDistributionPoints ?? []) {
        expect(point.UrlHash, context).toBe(commandValueHash(point.Url));
      }

      // The hierarchy is real: each certificate verifies under its issuer's key, and AKI names the issuer's SKI.
      const issuer = traits.issuerLabel ? caByLabel.get(traits.issuerLabel) : node;
      expect(issuer, context).toBeDefined();
      if (!issuer) continue;
      expect(node.verify(issuer.publicKey), context).toBe(true);
      if (traits.issuerLabel) {
        // OpenSSL's issuer check also wants keyCertSign on the issuer, which self-signed leaves rightly lack.
        expect(node.checkIssued(issuer), context).toBe(true);
        const issuerSki = new x509.X509Certificate(issuer.raw).getExtension(
          x509.SubjectKeyIdentifierExtension,
        )?.keyId;
        expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, context).toBe(issuerSki);
      }

      expect(c.PrincipalId, context).toBeNull();
      if (traits.role === 'leaf') {
        const expectedState = traits.revoked ? 2 : 1;
        expect([c.CertState, c.CertStateString], context).toEqual([
          expectedState,
          traits.revoked ? 'Revoked (2)' : 'Active (1)',
        ]);
        expect(c.CertificateAuthorityName !== null, context).toBe(!traits.selfSigned);
        expect(c.CertificateAuthorityId !== null, context).toBe(!traits.selfSigned);
        if (traits.selfSigned) expect(c.IssuerDN, context).toBe(c.IssuedDN);
      }
      if (traits.revoked) {
        expect(c.RevocationEffDate, context).toMatch(SECONDS_FORMAT);
        const revokedAt = Date.parse(c.RevocationEffDate ?? '');
        expect(revokedAt, context).toBeGreaterThan(Date.parse(c.NotBefore));
        expect(revokedAt, context).toBeLessThanOrEqual(now.getTime());
        expect([0, 1, 3, 4, 5, 6], context).toContain(c.RevocationReason);
        expect(c.RevocationComment, context).toBeTruthy();
      } else {
        expect([c.RevocationEffDate, c.RevocationReason, c.RevocationComment], context).toEqual([
          null,
          null,
          null,
        ]);
      }
      const requestFields = [c.CertRequestId, c.TemplateName, c.TemplateId, c.RequesterName, c.RequesterId];
      expect(
        requestFields.every((field) => field !== null),
        context,
      ).toBe(traits.requested);
      expect(
        requestFields.every((field) => field === null),
        context,
      ).toBe(!traits.requested);
      const grouped = new Map<string, number>();
      for (const entry of c.LocationsCount ?? []) grouped.set(entry.Type, entry.Count);
      expect(
        [...grouped.values()].reduce((sum, count) => sum + count, 0),
        context,
      ).toBe(c.Locations?.length);
    }
    // A few hundred certificates of the default mix cover the common key types and issuing signatures.
    for (const kind of ['RSA-2048', 'RSA-4096', 'ECC-256', 'ECC-384'])
      expect(seenKeyKinds.has(kind), kind).toBe(true);
    for (const kind of ['SHA-256withRSA', 'SHA-256withECDSA', 'SHA-384withECDSA', 'SHA-1withRSA']) {
      expect(seenSignatures.has(kind), kind).toBe(true);
    }
  });

  it('gives every certificate a unique thumbprint, a unique serial per issuer and one CertificateKeyId per key', () => {
    const inventory = generateInventory({ seed: 31337, count: 400 });
    expect(new Set(inventory.map((c) => c.Thumbprint)).size).toBe(inventory.length);
    expect(new Set(inventory.map((c) => `${c.IssuerDN}|${c.SerialNumber}`)).size).toBe(inventory.length);
    const keyById = new Map<number, string>();
    for (const c of inventory) {
      const spki = new NodeX509Certificate(Buffer.from(c.ContentBytes, 'base64')).publicKey
        .export({ type: 'spki', format: 'der' })
        .toString('hex');
      const known = keyById.get(c.CertificateKeyId ?? -1);
      if (known !== undefined) expect(spki, `CertificateKeyId ${c.CertificateKeyId}`).toBe(known);
      keyById.set(c.CertificateKeyId ?? -1, spki);
    }
    // Keys are pooled, so reuse across certificates must actually happen.
    expect(keyById.size).toBeLessThan(inventory.length / 2);
  });

  it('honours each validity category relative to now, and never imports before issuance unless post-dated', () => {
    const now = new Date('2026-06-30T00:00:00Z');
    const lifetime = (c: CommandCertificate): number =>
      (Date.parse(c.NotAfter) - Date.parse(c.NotBefore)) / DAY;
    const seen = new Set<string>();
    for (const { certificate: c, traits } of generated({ seed: 777, count: 500, now })) {
      if (traits.role !== 'leaf') continue;
      const notBefore = Date.parse(c.NotBefore);
      const notAfter = Date.parse(c.NotAfter);
      const validNow = notBefore <= now.getTime() && now.getTime() < notAfter;
      const context = `Id ${c.Id} ${traits.validity}`;
      seen.add(traits.validity ?? '');
      switch (traits.validity) {
        case 'normal':
          expect(validNow && lifetime(c) > 90 && lifetime(c) <= 398, context).toBe(true);
          break;
        case 'expiringSoon':
          expect(validNow && notAfter <= now.getTime() + 30 * DAY, context).toBe(true);
          break;
        case 'expired':
          expect(notAfter < now.getTime(), context).toBe(true);
          break;
        case 'notYetValid':
          expect(notBefore > now.getTime(), context).toBe(true);
          break;
        case 'long':
          expect(validNow && lifetime(c) > 398, context).toBe(true);
          break;
        case 'short':
          expect(validNow && lifetime(c) <= 90, context).toBe(true);
          break;
        default:
          throw new Error(`unexpected validity ${String(traits.validity)}`);
      }
      if (traits.validity !== 'notYetValid') {
        expect(notBefore, context).toBeLessThanOrEqual(Date.parse(c.ImportDate));
      }
      if (traits.requested) {
        // Enrolled through Command: imported minutes after issuance, as on a real server.
        expect(Date.parse(c.ImportDate) - notBefore, context).toBeLessThan(11 * 60_000);
      }
    }
    expect([...seen].sort()).toEqual(['expired', 'expiringSoon', 'long', 'normal', 'notYetValid', 'short']);
  });

  it('follows the mix: a weight table replaces the default one and fractions of 0 and 1 are exact', () => {
    const ed25519Only = generated({
      seed: 3,
      count: 60,
      mix: { leafKeys: { Ed25519: 1 }, selfSigned: 1, validity: { expired: 1 } },
    }).filter((g) => g.traits.role === 'leaf');
    expect(
      ed25519Only.every((g) => g.certificate.KeyType === 6 && g.certificate.SigningAlgorithm === 'Ed25519'),
    ).toBe(true);
    expect(ed25519Only.every((g) => Date.parse(g.certificate.NotAfter) < DEFAULT_NOW.getTime())).toBe(true);
    expect(ed25519Only.every((g) => g.certificate.CertificateAuthorityName === null)).toBe(true);

    const allRevoked = generated({
      seed: 4,
      count: 80,
      mix: {
        selfSigned: 0,
        revoked: 1,
        requested: 0,
        validity: { normal: 1 },
        signatures: { 'SHA-384withRSA': 1 },
      },
    }).filter((g) => g.traits.role === 'leaf');
    expect(
      allRevoked.every((g) => g.certificate.CertState === 2 && g.certificate.RevocationEffDate !== null),
    ).toBe(true);
    expect(allRevoked.every((g) => g.certificate.SigningAlgorithm === 'SHA-384withRSA')).toBe(true);
    expect(allRevoked.every((g) => g.certificate.TemplateName === null)).toBe(true);

    const noSan = generated({ seed: 8, count: 40, mix: { profiles: { tlsServerNoSan: 1 } } }).filter(
      (g) => g.traits.role === 'leaf',
    );
    expect(noSan.every((g) => g.certificate.SubjectAltNameElements?.length === 0)).toBe(true);
    expect(noSan.every((g) => g.certificate.ExtendedKeyUsages?.[0]?.Oid === '1.3.6.1.5.5.7.3.1')).toBe(true);
  });

  it('rejects bad options with a GeneratorOptionsError (an InputError) before generating anything', () => {
    // Not object literals, so the type checker lets through what a careless JavaScript caller could pass.
    const negativeWeight = { 'RSA-2048': -1 };
    const unknownProfile = { tlsServer: 1, nonsense: 2 };
    const bad: GenerateOptions[] = [
      { seed: 1.5, count: 10 },
      { seed: 1, count: -1 },
      { seed: 1, count: 10, startId: -3 },
      { seed: 1, count: 10, mix: { selfSigned: 1.2 } },
      { seed: 1, count: 10, mix: { leafKeys: negativeWeight } },
      { seed: 1, count: 10, mix: { validity: { expired: 0 } } },
      { seed: 1, count: 10, mix: { profiles: unknownProfile } },
      { seed: 1, count: 10, now: new Date('x') },
      { seed: 1, count: 10, importWindow: { from: DEFAULT_NOW, to: new Date(DEFAULT_NOW.getTime() + DAY) } },
    ];
    for (const options of bad) {
      expect(() => generateCertificates(options), JSON.stringify(options)).toThrow(GeneratorOptionsError);
      expect(() => generateCertificates(options)).toThrow(InputError);
    }
  });

  it('emits the Command formatting conventions documented in docs/simulator-dataset.md', () => {
    const inventory = generateInventory({ seed: 12, count: 200, dnSeparator: ',' });
    const root = inventory[0];
    expect(root?.IssuedDN).toBe('CN=Example Corp Root CA R1,O=Example Corp,C=US');
    expect(root?.CertificateAuthorityName).toBeNull();
    const issued = inventory.find((c) => c.CertificateAuthorityName?.endsWith('Issuing CA R1'));
    expect(issued?.CertificateAuthorityName).toBe('pki-ca01.corp.example.com\\Example Corp Issuing CA R1');
    expect(issued?.CARecordId).toBe(issued?.SerialNumber);
    const ec = inventory.find((c) => c.Curve === '1.2.840.10045.3.1.7');
    expect(ec?.KeySizeInBits).toBe(256);
    expect(inventory.some((c) => c.IssuedDN?.includes('Example Corp\\, Inc.'))).toBe(true);
    expect(inventory.some((c) => c.SubjectAltNameElements?.some((e) => e.Value.startsWith('*.')))).toBe(true);
    expect(inventory.some((c) => c.Metadata?.Retired === 'True')).toBe(true);
    expect(inventory.some((c) => (c.Locations?.length ?? 0) > 0 && (c.SSLLocations?.length ?? 0) > 0)).toBe(
      true,
    );
  });
});

describe('Command value hashes', () => {
  it('matches the hashes a real Command 25.4.1 returned', () => {
    expect(commandValueHash('10.0.0.1')).toBe('AC1D841FDD8BB66F77BE2B5B0860C2E2');
    expect(commandValueHash('san1.mixed.example.com')).toBe('38591C45A895F7999658ABC2E1647D42');
    expect(commandValueHash('CN=TestCA,O=AnaTom,C=SE')).toBe('F37C532D126FEF6DADCAEFC160355CB5');
  });
});

describe('deterministic ECDSA', () => {
  it('produces the RFC 6979 signature @noble/curves produces, and it verifies natively', () => {
    const curves = [
      ['P-256', p256, 'sha256'],
      ['P-384', p384, 'sha384'],
      ['P-521', p521, 'sha512'],
    ] as const;
    for (const [name, noble, hash] of curves) {
      const curve = EC_CURVES[name];
      for (let round = 0; round < 5; round++) {
        const seed = Buffer.concat([
          createHash('sha512').update(`${name}/${round}/a`).digest(),
          createHash('sha512').update(`${name}/${round}/b`).digest(),
        ]);
        const privateKey = seed.subarray(0, curve.byteLength);
        if (name === 'P-521') privateKey[0] = (privateKey[0] ?? 0) & 0x01;
        const message = Buffer.from(`message ${round}`);
        const digest = createHash(hash).update(message).digest();
        const ours = signEcdsaDigest(curve, bytesToBigInt(privateKey), digest);
        expect(ours.toString('hex'), `${name} round ${round}`).toBe(
          Buffer.from(noble.sign(digest, privateKey).toDERRawBytes()).toString('hex'),
        );
        const point = noble.getPublicKey(privateKey, false);
        const publicKey = createPublicKey({
          key: {
            kty: 'EC',
            crv: name,
            x: Buffer.from(point.subarray(1, 1 + curve.byteLength)).toString('base64url'),
            y: Buffer.from(point.subarray(1 + curve.byteLength)).toString('base64url'),
          },
          format: 'jwk',
        });
        expect(verify(hash, message, publicKey, ours), `${name} round ${round}`).toBe(true);
      }
    }
  });
});

describe('DER time encoding', () => {
  it('switches from UTCTime to GeneralizedTime in 2050 (RFC 5280)', () => {
    expect(time(new Date('2049-12-31T23:59:59Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });
});

describe('openssl agrees', () => {
  interface OpensslView {
    serial: string;
    subject: string;
    issuer: string;
    notBefore: number;
    notAfter: number;
    fingerprint: string;
    keyBits: number;
    curve: string | null;
    keyAlgorithm: string;
    signature: string;
    sans: Array<[number, string]>;
  }

  const OPENSSL_SIGNATURES: Record<string, string> = {
    sha1WithRSAEncryption: 'SHA-1withRSA',
    sha256WithRSAEncryption: 'SHA-256withRSA',
    sha384WithRSAEncryption: 'SHA-384withRSA',
    'ecdsa-with-SHA256': 'SHA-256withECDSA',
    'ecdsa-with-SHA384': 'SHA-384withECDSA',
    'ecdsa-with-SHA512': 'SHA-512withECDSA',
    ED25519: 'Ed25519',
  };
  const OPENSSL_SAN_TYPES: Array<[string, number]> = [
    ['DNS:', 2],
    ['email:', 1],
    ['URI:', 6],
    ['IP Address:', 7],
    ['othername: UPN::', 100],
  ];

  function openssl(der: Buffer): OpensslView {
    const text = execFileSync(
      'openssl',
      [
        ...[
          'x509',
          '-inform',
          'DER',
          '-noout',
          '-text',
          '-fingerprint',
          '-sha1',
          '-serial',
          '-subject',
          '-issuer',
        ],
        ...['-startdate', '-enddate', '-dateopt', 'iso_8601', '-nameopt', 'RFC2253,-esc_msb'],
      ],
      { input: der, encoding: 'utf8' },
    );
    const lines = text.split('\n');
    const value = (prefix: string): string => {
      const line = lines.find((candidate) => candidate.startsWith(prefix));
      if (line === undefined) throw new Error(`openssl output lacks ${prefix}\n${text}`);
      return line.slice(prefix.length).trim();
    };
    const sanIndex = lines.findIndex((line) => line.includes('X509v3 Subject Alternative Name'));
    const sanLine = sanIndex >= 0 ? (lines[sanIndex + 1] ?? '').trim() : '';
    const sans = sanLine
      ? sanLine.split(', ').map((entry): [number, string] => {
          const match = OPENSSL_SAN_TYPES.find(([prefix]) => entry.startsWith(prefix));
          if (!match) throw new Error(`unknown SAN ${entry}`);
          return [match[1], entry.slice(match[0].length)];
        })
      : [];
    const bits = /Public-Key: \((\d+) bit\)/.exec(text)?.[1];
    return {
      serial: value('serial='),
      subject: value('subject='),
      issuer: value('issuer='),
      notBefore: Date.parse(value('notBefore=').replace(' ', 'T')),
      notAfter: Date.parse(value('notAfter=').replace(' ', 'T')),
      fingerprint: value('sha1 Fingerprint=').replaceAll(':', ''),
      keyBits: text.includes('ED25519 Public-Key') ? 255 : Number(bits),
      curve: /NIST CURVE: (P-\d+)/.exec(text)?.[1] ?? null,
      keyAlgorithm: value('            Public Key Algorithm:'),
      signature: value('    Signature Algorithm:'),
      sans,
    };
  }

  /** ~30 certificates: the CAs, one self-signed leaf per key type, one issued leaf per signature, and oddities. */
  function sample(): GeneratedCertificate[] {
    const chosen: GeneratedCertificate[] = [];
    const selfSigned = generated({
      seed: 61,
      count: 120,
      dnSeparator: ',',
      mix: {
        selfSigned: 1,
        leafKeys: {
          'RSA-1024': 1,
          'RSA-2048': 1,
          'RSA-3072': 1,
          'RSA-4096': 1,
          'P-256': 1,
          'P-384': 1,
          'P-521': 1,
          Ed25519: 1,
        },
      },
    });
    chosen.push(...selfSigned.slice(0, 8));
    const seenKeys = new Set<string>();
    for (const candidate of selfSigned.slice(8)) {
      if (candidate.traits.leafKey && !seenKeys.has(candidate.traits.leafKey)) {
        seenKeys.add(candidate.traits.leafKey);
        chosen.push(candidate);
      }
    }
    const issued = generated({
      seed: 62,
      count: 200,
      dnSeparator: ',',
      includeCaCertificates: false,
      mix: {
        selfSigned: 0,
        signatures: {
          'SHA-1withRSA': 1,
          'SHA-256withRSA': 1,
          'SHA-384withRSA': 1,
          'SHA-256withECDSA': 1,
          'SHA-384withECDSA': 1,
          Ed25519: 1,
        },
      },
    });
    const seenSignatures = new Set<string>();
    for (const candidate of issued) {
      if (!seenSignatures.has(candidate.traits.signature)) {
        seenSignatures.add(candidate.traits.signature);
        chosen.push(candidate);
      }
    }
    const oddities: Array<(c: CommandCertificate) => boolean> = [
      (c) => c.SubjectAltNameElements?.some((e) => e.Type === 100) ?? false,
      (c) => c.SubjectAltNameElements?.some((e) => e.Type === 7 && e.Value.includes(':')) ?? false,
      (c) => c.IssuedDN === '',
      (c) => c.SerialNumber.startsWith('00'),
      (c) => /[^ -~]/.test(c.IssuedDN ?? ''),
      (c) => c.IssuedDN?.includes('\\,') ?? false,
    ];
    for (const odd of oddities) {
      const found = issued.find((candidate) => odd(candidate.certificate) && !chosen.includes(candidate));
      if (!found) throw new Error(`the openssl sample lacks a certificate matching ${odd.toString()}`);
      chosen.push(found);
    }
    const seenProfiles = new Set<string>();
    for (const candidate of issued) {
      const profile = candidate.traits.profile ?? '';
      if (!seenProfiles.has(profile) && !chosen.includes(candidate)) {
        seenProfiles.add(profile);
        chosen.push(candidate);
      }
    }
    return chosen;
  }

  it('reads the same serial, names, validity, fingerprint, key, signature and SANs as Command reports', () => {
    const chosen = sample();
    expect(chosen.length).toBeGreaterThanOrEqual(30);
    expect(new Set(chosen.map((g) => g.traits.leafKey ?? g.traits.label)).size).toBeGreaterThanOrEqual(16);
    expect(new Set(chosen.map((g) => g.certificate.SigningAlgorithm))).toEqual(
      new Set([
        'SHA-1withRSA',
        'SHA-256withRSA',
        'SHA-384withRSA',
        'SHA-256withECDSA',
        'SHA-384withECDSA',
        'SHA-512withECDSA',
        'Ed25519',
      ]),
    );
    for (const { certificate: c, der } of chosen) {
      const context = `Id ${c.Id} ${c.SigningAlgorithm}`;
      const view = openssl(der);
      expect(view.serial, context).toBe(c.SerialNumber.replace(/^00(?=[89A-F])/, ''));
      const toOpenssl = (dn: string | null | undefined): string =>
        (dn ?? '').replace(/(^|,)E=/g, '$1emailAddress=');
      expect(view.subject, context).toBe(toOpenssl(c.IssuedDN));
      expect(view.issuer, context).toBe(toOpenssl(c.IssuerDN));
      expect(view.notBefore, context).toBe(Date.parse(c.NotBefore));
      expect(view.notAfter, context).toBe(Date.parse(c.NotAfter));
      expect(view.fingerprint, context).toBe(c.Thumbprint);
      expect(view.keyBits, context).toBe(c.KeySizeInBits);
      expect(view.curve, context).toBe(
        { '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384', '1.3.132.0.35': 'P-521' }[c.Curve ?? ''] ??
          null,
      );
      expect(view.keyAlgorithm, context).toBe(
        { 1: 'rsaEncryption', 3: 'id-ecPublicKey', 6: 'ED25519' }[c.KeyType],
      );
      expect(OPENSSL_SIGNATURES[view.signature], context).toBe(c.SigningAlgorithm);
      expect(
        view.sans.map(([type, value]) => sanPair(type, value)),
        context,
      ).toEqual((c.SubjectAltNameElements ?? []).map((e) => sanPair(e.Type, e.Value)));
    }
  });
});

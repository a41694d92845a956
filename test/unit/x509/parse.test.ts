// What the reader extracts from valid certificates, pinned on cases a subtly broken reader would get wrong.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCertificate, pemToDers, tryParseCertificate } from '#shared/x509/index';
import type { ParsedCertificate } from '#shared/x509/index';
import { craftedBeyondOpenSsl, craftedCorpus } from '#test/fixtures/x509/crafted';
import {
  certificate,
  cn,
  ed25519Signer,
  extension,
  hexBytes,
  integer,
  name,
  printable,
  seq,
  spki,
  algorithm,
  utf8,
} from '#test/fixtures/x509/der-builder';

const signer = ed25519Signer();
const crafted = new Map(craftedCorpus(signer).map((sample) => [sample.label, parseCertificate(sample.der)]));
const beyond = new Map(
  craftedBeyondOpenSsl(signer).map((sample) => [sample.label, parseCertificate(sample.der)]),
);
const corpus = new Map<string, ParsedCertificate>();
{
  let label = '';
  for (const block of readFileSync(
    new URL('../../fixtures/x509/openssl-corpus.pem', import.meta.url),
    'latin1',
  ).split(/(?=^# )/m)) {
    label = /^# (.*)$/m.exec(block)?.[1] ?? label;
    for (const der of pemToDers(block.replace(/^# .*$/m, ''))) corpus.set(label, parseCertificate(der));
  }
}

function get(map: Map<string, ParsedCertificate>, label: string): ParsedCertificate {
  const found = map.get(label);
  if (!found) throw new Error(`no fixture "${label}"`);
  return found;
}

describe('serial numbers', () => {
  it('keeps the content bytes as encoded and flags negatives without failing', () => {
    expect(get(crafted, 'serial -1')).toMatchObject({
      serialNumber: 'ff',
      serialNumberNegative: true,
      serialNumberLength: 1,
    });
    expect(get(crafted, 'serial -129')).toMatchObject({
      serialNumber: 'ff7f',
      serialNumberNegative: true,
      serialNumberLength: 2,
    });
    expect(get(crafted, 'serial 0x00ff')).toMatchObject({
      serialNumber: '00ff',
      serialNumberNegative: false,
      serialNumberLength: 2,
    });
    expect(get(corpus, 'serial 0')).toMatchObject({
      serialNumber: '00',
      serialNumberNegative: false,
      serialNumberLength: 1,
    });
    expect(get(corpus, '21-octet serial').serialNumberLength).toBe(21);
    expect(get(crafted, 'serial of 32 octets').serialNumberLength).toBe(32);
  });

  it('accepts a non-minimal serial as written (OpenSSL refuses the whole certificate)', () => {
    expect(get(beyond, 'non-minimal serial padding')).toMatchObject({
      serialNumber: '0001',
      serialNumberLength: 2,
    });
  });
});

describe('names', () => {
  it('decodes each string type to text and prints RFC 4514 the way OpenSSL does', () => {
    const latin = get(crafted, 'teletex, ia5 and printable with Latin-1 bytes');
    expect(latin.subject.attributes.map((attribute) => attribute.value)).toEqual([
      'DE',
      'Müller & Söhne',
      'Zürich',
      'Café Crème',
    ]);
    expect(latin.subject.rfc4514).toBe(
      'CN=Caf\\C3\\A9 Cr\\C3\\A8me,L=Z\\C3\\BCrich,O=M\\C3\\BCller & S\\C3\\B6hne,C=DE',
    );
    const wide = get(crafted, 'bmp and universal strings with specials');
    expect(wide.subject.attributes.map((attribute) => attribute.value)).toEqual([
      '#leading hash, comma',
      '日本語 Ω',
      'emoji 😀 and "quotes"',
    ]);
    expect(wide.subject.rfc4514).toBe(
      'CN=emoji \\F0\\9F\\98\\80 and \\"quotes\\",OU=\\E6\\97\\A5\\E6\\9C\\AC\\E8\\AA\\9E \\CE\\A9,O=\\#leading hash\\, comma',
    );
  });

  it('escapes first and last characters by position, a one-character value counting only as last', () => {
    expect(get(crafted, 'single-character and empty values').subject.rfc4514).toBe(
      'CN=a,ST=\\ \\ ,L=\\,,OU=,O=\\ ,C=#',
    );
    expect(get(crafted, 'control characters, NUL, DEL and backslashes').subject.rfc4514).toBe(
      'CN=back\\\\slash = equals,OU=del\\7F and \\1F unit separator,O=nul\\00byte',
    );
  });

  it('reverses RDNs and their values, joins multi-valued RDNs with "+" and records the RDN index', () => {
    const multi = get(crafted, 'multi-valued RDNs in unsorted order').subject;
    expect(multi.rfc4514).toBe(
      'OU=A+OU=B,emailAddress=jane@example.com+UID=jdoe+CN=Jane Doe,DC=example,DC=com',
    );
    expect(multi.attributes.map((attribute) => [attribute.type, attribute.rdn])).toEqual([
      ['DC', 0],
      ['DC', 1],
      ['CN', 2],
      ['UID', 2],
      ['emailAddress', 2],
      ['OU', 3],
      ['OU', 3],
    ]);
  });

  it('dumps unknown attribute types and non-string values as DER hex, naming the type by OID', () => {
    const unknown = get(crafted, 'unknown attribute types and non-string values').subject;
    expect(unknown.rfc4514).toBe(
      'CN=unknown-types.example.com,O=#301D0C1B73657175656E636520756E6465722061206B6E6F776E2074797065,' +
        '1.3.6.1.4.1.99999.7=#300B0201050C066E6573746564,2.5.4.200=#1311756E6B6E6F776E207072696E7461626C65,' +
        '1.2.3.4.5=#0C0C756E6B6E6F776E2075746638',
    );
    // The attribute value stays readable text for string types even when the type is unknown.
    expect(unknown.attributes[0]).toEqual({
      type: '1.2.3.4.5',
      oid: '1.2.3.4.5',
      value: 'unknown utf8',
      rdn: 0,
    });
  });

  it('names attribute types with OpenSSL short names beyond the usual five', () => {
    const many = get(corpus, 'many attribute types').subject.attributes.map((attribute) => attribute.type);
    expect(many).toEqual(
      expect.arrayContaining([
        'street',
        'postalCode',
        'businessCategory',
        'jurisdictionC',
        'organizationIdentifier',
        'GN',
        'SN',
      ]),
    );
  });

  it('takes the last CN as the common name and null when there is none', () => {
    const twoCommonNames = parseCertificate(
      certificate(signer, {
        subject: name([['2.5.4.3', utf8('first')]], [['2.5.4.10', utf8('org')]], [['2.5.4.3', utf8('last')]]),
      }),
    );
    expect(twoCommonNames.commonName).toBe('last');
    expect(get(crafted, 'empty subject with SAN')).toMatchObject({
      commonName: null,
      subject: { rfc4514: '', attributes: [] },
    });
  });

  it('describes names OpenSSL rejects instead of failing', () => {
    const badUtf8 = get(beyond, 'invalid UTF-8 in a UTF8String').subject;
    expect(badUtf8.attributes[0]?.value).toBe('a\ufffdb');
    expect(badUtf8.rfc4514).toBe('CN=a\\FFb');
    expect(get(beyond, 'odd-length BMPString').subject.rfc4514).toBe('CN=#1E03004100');
    expect(get(beyond, 'INTEGER attribute value').subject.attributes[0]?.value).toBe('#02012A');
  });
});

describe('validity', () => {
  it('applies the RFC 5280 UTCTime century rule and reads GeneralizedTime', () => {
    expect(get(crafted, 'UTCTime boundaries 1950 and 2049')).toMatchObject({
      notBefore: '1950-01-01T00:00:00Z',
      notAfter: '2049-12-31T23:59:59Z',
    });
    expect(get(crafted, 'GeneralizedTime before 1950 and 9999')).toMatchObject({
      notBefore: '1949-12-31T23:59:59Z',
      notAfter: '9999-12-31T23:59:59Z',
    });
    expect(get(crafted, 'leap day').notBefore).toBe('2024-02-29T12:00:00Z');
  });
});

describe('versions', () => {
  it('reads v1 from an absent or explicit version field, and v2/v3', () => {
    expect(get(crafted, 'v1 without extensions').version).toBe(1);
    expect(get(crafted, 'explicit v1 version field').version).toBe(1);
    expect(get(crafted, 'v2 with unique identifiers').version).toBe(2);
    expect(get(crafted, 'v3 with unique identifiers and extensions').version).toBe(3);
  });

  it('lists extensions of a v1 certificate so findings can flag them', () => {
    const v1 = get(crafted, 'v1 with extensions (version field omitted)');
    expect(v1.version).toBe(1);
    expect(v1.extensions).toEqual([{ oid: '2.5.29.19', name: 'basicConstraints', critical: false }]);
    expect(v1.basicConstraints).toEqual({ present: true, critical: false, cA: true, pathLen: null });
  });
});

describe('public keys', () => {
  it('sizes classical keys the way OpenSSL does', () => {
    expect(get(corpus, 'RSA-2047').publicKey).toMatchObject({
      family: 'RSA',
      keySizeBits: 2047,
      rsaExponent: 65537,
    });
    expect(get(corpus, 'RSA exponent 3').publicKey.rsaExponent).toBe(3);
    expect(get(corpus, 'RSA exponent 2^64+1').publicKey.rsaExponent).toBe('010000000000000001');
    expect(get(corpus, 'EC secp160r1').publicKey).toMatchObject({ curve: 'secp160r1', keySizeBits: 161 });
    expect(get(corpus, 'ECDSA P-521 SHA-512 full extensions').publicKey).toMatchObject({
      family: 'EC',
      curve: 'P-521',
      curveOid: '1.3.132.0.35',
      keySizeBits: 521,
    });
    expect(get(corpus, 'EC explicit parameters').publicKey).toMatchObject({
      curve: 'explicit',
      curveOid: null,
      keySizeBits: 256,
    });
    expect(get(corpus, 'Ed448').publicKey).toMatchObject({ family: 'Ed448', keySizeBits: 456 });
    expect(get(corpus, 'DSA-3072/256 sha256').publicKey).toMatchObject({ family: 'DSA', keySizeBits: 3072 });
    expect(get(corpus, 'DH X9.42 issued by CA').publicKey).toMatchObject({ family: 'DH', keySizeBits: 2048 });
    expect(get(corpus, 'RSA-PSS key with restrictions').publicKey).toMatchObject({
      family: 'RSA',
      algorithmName: 'rsassaPss',
    });
  });

  it('identifies post-quantum and composite keys by OID', () => {
    expect(get(crafted, 'ML-DSA-65 key').publicKey).toMatchObject({
      family: 'ML-DSA',
      parameterSet: 'ML-DSA-65',
      keySizeBits: 1952 * 8,
      algorithmOid: '2.16.840.1.101.3.4.3.18',
    });
    expect(get(crafted, 'SLH-DSA-SHAKE-256f key').publicKey).toMatchObject({
      family: 'SLH-DSA',
      keySizeBits: 512,
    });
    expect(get(crafted, 'ML-KEM-768 key').publicKey).toMatchObject({
      family: 'ML-KEM',
      parameterSet: 'ML-KEM-768',
    });
    expect(get(crafted, 'composite ML-DSA-87 + Ed448 key').publicKey).toMatchObject({
      family: 'composite',
      parameterSet: 'MLDSA87-Ed448-SHAKE256',
      keySizeBits: (2592 + 57) * 8,
    });
  });

  it('reports unknown algorithms and curves without failing', () => {
    expect(get(crafted, 'unknown key algorithm').publicKey).toMatchObject({
      family: 'unknown',
      algorithmOid: '1.3.6.1.4.1.99999.5',
      algorithmName: '1.3.6.1.4.1.99999.5',
      keySizeBits: null,
    });
    expect(get(crafted, 'GOST 2012 key').publicKey).toMatchObject({
      family: 'unknown',
      algorithmName: 'GOST R 34.10-2012 with 256 bit modulus',
    });
    expect(get(crafted, 'EC key on an unknown named curve').publicKey).toMatchObject({
      family: 'EC',
      curve: null,
      curveOid: '1.3.132.0.99',
      keySizeBits: null,
    });
    expect(get(crafted, 'DSA key with inherited parameters').publicKey.keySizeBits).toBeNull();
  });

  it('fingerprints the SubjectPublicKeyInfo so key reuse across certificates is visible', () => {
    const selfSigned = get(crafted, 'self-signed Ed25519');
    const otherSigner = get(crafted, 'self-issued but signed by another key');
    expect(selfSigned.publicKey.spkiSha256).toBe(otherSigner.publicKey.spkiSha256);
    expect(selfSigned.publicKey.spkiSha256).not.toBe(get(corpus, 'Ed25519').publicKey.spkiSha256);
  });
});

describe('signature algorithms', () => {
  it('reads the RSASSA-PSS hash from its parameters', () => {
    expect(get(corpus, 'RSA-PSS SHA-512 MGF1 SHA-256').signatureAlgorithm).toEqual({
      oid: '1.2.840.113549.1.1.10',
      name: 'rsassaPss',
      hash: 'SHA-512',
      family: 'RSA',
      pss: { hash: 'SHA-512', maskGenHash: 'SHA-256', saltLength: 20 },
    });
  });

  it('names algorithms as OpenSSL does and post-quantum ones by their standard names', () => {
    expect(get(corpus, 'RSA-1024 MD5').signatureAlgorithm).toMatchObject({
      name: 'md5WithRSAEncryption',
      hash: 'MD5',
    });
    expect(get(corpus, 'DSA-2048/224 sha224').signatureAlgorithm).toMatchObject({
      name: 'dsa_with_SHA224',
      hash: 'SHA-224',
      family: 'DSA',
    });
    expect(get(crafted, 'ML-DSA-44 signature algorithm').signatureAlgorithm).toMatchObject({
      name: 'ML-DSA-44',
      hash: 'none',
      family: 'ML-DSA',
    });
    expect(get(crafted, 'composite signature algorithm').signatureAlgorithm).toMatchObject({
      name: 'MLDSA44-ECDSA-P256-SHA256',
      hash: 'SHA-256',
      family: 'composite',
    });
    expect(get(crafted, 'unknown signature algorithm').signatureAlgorithm).toMatchObject({
      oid: '1.2.3.4.99',
      name: '1.2.3.4.99',
      hash: 'unknown',
      family: 'unknown',
    });
    expect(get(crafted, 'rsaEncryption as the signature algorithm').signatureAlgorithm).toMatchObject({
      name: 'rsaEncryption',
      family: 'RSA',
    });
  });

  it('flags a TBS signature algorithm that differs from the outer one', () => {
    expect(get(crafted, 'outer and inner signature algorithms differ').signatureAlgorithmsMatch).toBe(false);
    expect(get(crafted, 'self-signed Ed25519').signatureAlgorithmsMatch).toBe(true);
  });
});

describe('extensions', () => {
  it('decodes every GeneralName type in order', () => {
    expect(get(crafted, 'every GeneralName type').subjectAltNames).toEqual([
      { type: 'dns', value: 'dns.example.com', oid: null },
      { type: 'dns', value: '*.wildcard.example.com', oid: null },
      { type: 'email', value: 'mail@example.com', oid: null },
      { type: 'uri', value: 'https://example.com/a?b=c', oid: null },
      { type: 'ip', value: '10.0.0.1', oid: null },
      { type: 'ip', value: '2001:DB8:0:0:0:0:0:1', oid: null },
      { type: 'ip', value: 'FE80:0:0:0:204:61A:2B3C:4D5E', oid: null },
      { type: 'ip', value: '0:0:0:0:0:FFFF:C000:201', oid: null },
      { type: 'upn', value: 'upn@corp.example.com', oid: '1.3.6.1.4.1.311.20.2.3' },
      { type: 'otherName', value: '_ldap._tcp.example.com', oid: '1.3.6.1.5.5.7.8.7' },
      { type: 'otherName', value: 'müller@example.com', oid: '1.3.6.1.5.5.7.8.9' },
      { type: 'otherName', value: 'custom', oid: '1.2.3.4.99' },
      { type: 'otherName', value: '#020107', oid: '1.2.3.4.98' },
      { type: 'directoryName', value: 'CN=Dir\\, Name\\+Special,C=FR', oid: null },
      { type: 'registeredId', value: '1.2.3.4.5.6.7', oid: null },
    ]);
    expect(get(crafted, 'IP address of invalid length').subjectAltNames).toEqual([
      { type: 'ip', value: '<invalid length=5>', oid: null },
    ]);
    expect(get(crafted, 'UPN that is not a UTF8String').subjectAltNames).toEqual([
      { type: 'otherName', value: 'ia5-upn@example.com', oid: '1.3.6.1.4.1.311.20.2.3' },
    ]);
  });

  it('keeps every extension with its critical flag and decodes the first of duplicates', () => {
    const duplicates = get(crafted, 'unknown critical extension and duplicates');
    expect(duplicates.extensions).toEqual([
      { oid: '1.3.6.1.4.1.99999.42', name: null, critical: true },
      { oid: '2.5.29.19', name: 'basicConstraints', critical: true },
      { oid: '2.5.29.19', name: 'basicConstraints', critical: false },
      { oid: '2.5.29.15', name: 'keyUsage', critical: true },
    ]);
    expect(duplicates.basicConstraints).toEqual({ present: true, critical: true, cA: true, pathLen: 0 });
    expect(duplicates.keyUsage).toEqual(['digitalSignature']);
  });

  it('reads key usage bits across both bytes', () => {
    expect(get(crafted, 'key usage with decipherOnly').keyUsage).toEqual([
      'digitalSignature',
      'keyCertSign',
      'cRLSign',
      'decipherOnly',
    ]);
    expect(get(corpus, 'RSA-2048 SHA-256 full extensions').keyUsage).toHaveLength(9);
  });

  it('names extended key usages and keeps unknown ones as OIDs', () => {
    expect(get(crafted, 'extended key usages known and unknown').extendedKeyUsage).toEqual([
      { oid: '1.3.6.1.5.5.7.3.1', name: 'serverAuth' },
      { oid: '1.3.6.1.5.5.7.3.2', name: 'clientAuth' },
      { oid: '1.3.6.1.4.1.311.20.2.2', name: 'msSmartcardLogin' },
      { oid: '1.3.6.1.4.1.311.10.3.12', name: '1.3.6.1.4.1.311.10.3.12' },
      { oid: '2.5.29.37.0', name: 'anyExtendedKeyUsage' },
      { oid: '1.3.6.1.4.1.99999.9.9', name: '1.3.6.1.4.1.99999.9.9' },
    ]);
  });

  it('reads basic constraints, key identifiers, CRL points, AIA and policies', () => {
    expect(get(crafted, 'basicConstraints explicit FALSE and large pathLen').basicConstraints).toEqual({
      present: true,
      critical: false,
      cA: false,
      pathLen: 100000,
    });
    expect(get(crafted, 'v1 without extensions').basicConstraints).toEqual({
      present: false,
      critical: false,
      cA: false,
      pathLen: null,
    });
    expect(get(crafted, 'authorityKeyIdentifier with issuer and serial')).toMatchObject({
      authorityKeyIdentifier: 'aabb',
      subjectKeyIdentifier: 'ccdd',
    });
    expect(get(crafted, 'authorityKeyIdentifier without keyIdentifier').authorityKeyIdentifier).toBeNull();
    expect(get(crafted, 'CRL distribution points of every shape').crlDistributionPoints).toEqual([
      'http://crl.example.com/1.crl',
      'ldap://x/cn=y',
      'http://crl.example.com/2.crl',
    ]);
    expect(get(crafted, 'AIA with non-URI locations and other methods').authorityInfoAccess).toEqual({
      ocsp: ['http://ocsp.example.com'],
      caIssuers: ['http://ca.example.com/ca.p7c'],
    });
    expect(get(crafted, 'certificate policies with qualifiers').certificatePolicies).toEqual([
      '2.5.29.32.0',
      '2.23.140.1.2.2',
      '1.3.6.1.4.1.99999.3',
    ]);
    expect(get(crafted, 'v1 without extensions')).toMatchObject({
      subjectAltNames: null,
      keyUsage: null,
      extendedKeyUsage: null,
      crlDistributionPoints: null,
      authorityInfoAccess: null,
      certificatePolicies: null,
    });
  });
});

describe('self-issued and self-signed', () => {
  it('verifies the self-signature lazily and tells why when it cannot', () => {
    expect(get(crafted, 'self-signed Ed25519')).toMatchObject({
      selfIssued: true,
      selfSigned: true,
      selfSignatureCheck: 'verified',
    });
    expect(get(crafted, 'self-issued but signed by another key')).toMatchObject({
      selfIssued: true,
      selfSigned: false,
      selfSignatureCheck: 'failed',
    });
    expect(get(crafted, 'v1 without extensions')).toMatchObject({
      selfIssued: false,
      selfSigned: false,
      selfSignatureCheck: 'not-self-issued',
    });
    for (const label of [
      'RSA-4096 SHA-512',
      'RSA-PSS SHA-256',
      'DSA-1024/160 sha1',
      'EC brainpoolP384r1',
      'Ed448',
      'RSA-1024 MD5',
    ]) {
      expect(get(corpus, label).selfSignatureCheck, label).toBe('verified');
    }
  });

  it('falls back to key identifiers when node:crypto cannot verify the algorithm', () => {
    const subject = cn('pq-root.example.com');
    const key = spki(algorithm('2.16.840.1.101.3.4.3.17'), new Uint8Array(1312));
    const ski = extension('2.5.29.14', hexBytes('0401aa'));
    // An ML-DSA self-signature: node:crypto on OpenSSL 3.0 cannot check it.
    const signature = algorithm('2.16.840.1.101.3.4.3.17');
    const root = parseCertificate(
      certificate(signer, {
        issuer: subject,
        subject,
        subjectPublicKeyInfo: key,
        signature,
        extensions: [ski],
      }),
    );
    expect(root).toMatchObject({ selfIssued: true, selfSignatureCheck: 'unsupported', selfSigned: true });
    const otherAki = extension('2.5.29.35', seq(hexBytes('8001bb')));
    const crossSigned = parseCertificate(
      certificate(signer, {
        issuer: subject,
        subject,
        subjectPublicKeyInfo: key,
        signature,
        extensions: [ski, otherAki],
      }),
    );
    expect(crossSigned).toMatchObject({ selfSignatureCheck: 'unsupported', selfSigned: false });
  });
});

describe('result shape', () => {
  it('is plain JSON, lazy fields included, and survives spreading', () => {
    const parsed = get(crafted, 'self-signed Ed25519');
    const json = JSON.parse(JSON.stringify(parsed)) as Record<string, unknown>;
    expect(json.selfSigned).toBe(true);
    expect(json.selfSignatureCheck).toBe('verified');
    expect(json.sha256).toBe(parsed.sha256);
    expect({ ...parsed }.selfSigned).toBe(true);
    expect(Object.keys(json)).toHaveLength(Object.keys(parsed).length);
  });

  it('fingerprints exactly the certificate bytes, even inside a larger buffer', () => {
    const der = certificate(signer, { subject: name([['2.5.4.6', printable('NL')]]) });
    const padded = new Uint8Array(der.length + 10);
    padded.set(der, 5);
    const view = padded.subarray(5, 5 + der.length);
    expect(parseCertificate(view).sha256).toBe(parseCertificate(der).sha256);
    expect(parseCertificate(view).derLength).toBe(der.length);
  });

  it('tryParseCertificate returns results instead of throwing', () => {
    const good = tryParseCertificate(certificate(signer, { serial: integer(5n) }));
    expect(good.ok && good.certificate.serialNumber).toBe('05');
    const bad = tryParseCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01]));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.reason).toBe('truncated');
    const internal = tryParseCertificate(null as unknown as Uint8Array);
    expect(!internal.ok && internal.error.reason).toBe('internal-error');
  });
});

// Hostile input: every malformed certificate is a CertificateParseError with a reason and an offset, found fast.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CertificateParseError,
  MAX_CERTIFICATE_BYTES,
  decodeBase64Der,
  parseCertificate,
  pemToDers,
} from '#shared/x509/index';
import type { CertificateParseErrorReason } from '#shared/x509/index';
import {
  NULL,
  algorithm,
  certificate,
  cn,
  concat,
  ed25519Signer,
  explicit,
  extension,
  generalizedTime,
  integer,
  name,
  octetString,
  oid,
  seq,
  spki,
  tlv,
  utcTime,
  utf8,
} from '#test/fixtures/x509/der-builder';

const signer = ed25519Signer();
const valid = certificate(signer, {
  subject: cn('hostile.example.com'),
  extensions: [extension('2.5.29.17', seq(tlv(0x82, Buffer.from('hostile.example.com'))))],
});

function parseError(der: Uint8Array): CertificateParseError {
  try {
    parseCertificate(der);
  } catch (error) {
    if (error instanceof CertificateParseError) return error;
    throw new Error(`expected a CertificateParseError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the certificate to be rejected');
}

function expectReason(der: Uint8Array, reason: CertificateParseErrorReason): CertificateParseError {
  const error = parseError(der);
  expect(error.reason, error.message).toBe(reason);
  expect(error.name).toBe('CertificateParseError');
  return error;
}

describe('envelope', () => {
  it('rejects empty input and oversized blobs without reading them', () => {
    expectReason(new Uint8Array(0), 'empty-input');
    const blob = new Uint8Array(10 * 1024 * 1024);
    blob.set(valid);
    const started = performance.now();
    const error = expectReason(blob, 'too-large');
    expect(performance.now() - started).toBeLessThan(20);
    expect(error.message).toContain(String(MAX_CERTIFICATE_BYTES));
  });

  it('rejects every truncation of a real certificate as truncated', () => {
    for (let length = 1; length < valid.length; length++) {
      const error = expectReason(valid.subarray(0, length), 'truncated');
      expect(error.offset).not.toBeNull();
    }
  });

  it('rejects trailing garbage, pointing at the first extra byte', () => {
    const error = expectReason(concat(valid, Uint8Array.from([0])), 'trailing-data');
    expect(error.offset).toBe(valid.length);
    expect(error.message).toContain(`(at byte ${valid.length})`);
  });

  it('rejects a wrong outer tag and hints at PEM text', () => {
    expectReason(concat(Uint8Array.from([0x31]), valid.subarray(1)), 'unexpected-tag');
    const pem = expectReason(
      Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
      'unexpected-tag',
    );
    expect(pem.message).toContain('pemToDers');
  });

  it('rejects absurd, indefinite and over-long lengths', () => {
    expectReason(Uint8Array.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00]), 'truncated');
    expectReason(Uint8Array.from([0x30, 0x80, 0x30, 0x00, 0x00, 0x00]), 'indefinite-length');
    expectReason(Uint8Array.from([0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x02]), 'invalid-length');
    expectReason(Uint8Array.from([0x30, 0xff, 0x00]), 'invalid-length');
    // An inner element claiming more than its parent holds.
    const tbsLengthAt = valid[1] === 0x82 ? 4 : 2;
    const inner = Uint8Array.from(valid);
    inner[tbsLengthAt + 1] = 0x84;
    const innerError = parseError(inner);
    expect(['invalid-length', 'truncated']).toContain(innerError.reason);
  });

  it('tolerates non-minimal length encodings as OpenSSL does', () => {
    const body = valid.subarray(valid[1] === 0x82 ? 4 : 2);
    const longForm = concat(Uint8Array.from([0x30, 0x84, 0, 0, body.length >> 8, body.length & 0xff]), body);
    const parsed = parseCertificate(longForm);
    expect(parsed.subject.rfc4514).toBe('CN=hostile.example.com');
    expect(parsed.derLength).toBe(valid.length + (valid[1] === 0x82 ? 2 : 4));
  });

  it('rejects high-tag-number forms', () => {
    expectReason(Uint8Array.from([0x1f, 0x81, 0x00, 0x00]), 'unexpected-tag');
  });
});

describe('nesting', () => {
  it('bounds the depth of opaque values it keeps', () => {
    let nested: Uint8Array = Uint8Array.from([0x05, 0x00]);
    for (let depth = 0; depth < 200; depth++) nested = seq(nested);
    const deep = certificate(signer, { subject: name([['2.5.4.10', nested]]) });
    const started = performance.now();
    expectReason(deep, 'too-deep');
    expect(performance.now() - started).toBeLessThan(50);
    let shallow: Uint8Array = Uint8Array.from([0x05, 0x00]);
    for (let depth = 0; depth < 20; depth++) shallow = seq(shallow);
    expect(
      parseCertificate(certificate(signer, { subject: name([['2.5.4.10', shallow]]) })).subject.attributes[0]
        ?.value,
    ).toMatch(/^#30/);
  });

  it('never recurses on 150,000 levels of correctly nested SEQUENCEs', () => {
    const depth = 150_000;
    const nested = new Uint8Array(depth * 6);
    for (let level = 0; level < depth; level++) {
      const remaining = nested.length - (level + 1) * 6;
      nested.set(
        [0x30, 0x84, remaining >>> 24, (remaining >>> 16) & 0xff, (remaining >>> 8) & 0xff, remaining & 0xff],
        level * 6,
      );
    }
    const started = performance.now();
    const error = expectReason(nested, 'unexpected-tag');
    expect(performance.now() - started).toBeLessThan(50);
    expect(error.message).toContain('serialNumber');
  });
});

describe('fields', () => {
  it('rejects versions other than v1-v3 and empty INTEGERs', () => {
    expectReason(certificate(signer, { version: 3 }), 'unsupported-version');
    expectReason(certificate(signer, { version: -1 }), 'unsupported-version');
    expectReason(certificate(signer, { serial: tlv(0x02) }), 'invalid-integer');
  });

  it('accepts a negative serial and an unknown algorithm: they are findings, not parse errors', () => {
    const parsed = parseCertificate(
      certificate(signer, {
        serial: integer(-5n),
        subjectPublicKeyInfo: spki(algorithm('1.2.3.4.5', NULL), Uint8Array.from([1])),
      }),
    );
    expect(parsed.serialNumberNegative).toBe(true);
    expect(parsed.publicKey.family).toBe('unknown');
  });

  it('rejects every time that is not RFC 5280 UTCTime or GeneralizedTime', () => {
    const cases: Array<[Uint8Array, string]> = [
      [utcTime('2501010000Z'), 'no seconds'],
      [utcTime('250101000000+0100'), 'offset'],
      [utcTime('250101000000'), 'no Z'],
      [generalizedTime('20250101000000.5Z'), 'fractional seconds'],
      [generalizedTime('202501010000Z'), 'short GeneralizedTime'],
      [utcTime('251301000000Z'), 'month 13'],
      [utcTime('250230000000Z'), 'February 30'],
      [utcTime('230229000000Z'), 'February 29 in a common year'],
      [generalizedTime('21000229000000Z'), 'February 29 in 2100'],
      [utcTime('250101240000Z'), 'hour 24'],
      [utcTime('250101006000Z'), 'minute 60'],
      [utcTime('250101000060Z'), 'second 60'],
      [utcTime('25010100000AZ'), 'non-digit'],
      [utcTime('2501 1000000Z'), 'space'],
    ];
    for (const [time, label] of cases) {
      const error = parseError(certificate(signer, { notAfter: time }));
      expect(error.reason, label).toBe('invalid-time');
      expect(error.message, label).toContain('notAfter');
    }
    expectReason(
      certificate(signer, { notBefore: octetString(Buffer.from('250101000000Z')) }),
      'unexpected-tag',
    );
  });

  it('rejects malformed OIDs, BOOLEANs and BIT STRINGs', () => {
    const badOid = seq(tlv(0x06, Uint8Array.from([0x2a, 0x86])), octetString(NULL));
    expectReason(certificate(signer, { extensions: [badOid] }), 'invalid-oid');
    const paddedOid = seq(tlv(0x06, Uint8Array.from([0x2a, 0x80, 0x01])), octetString(NULL));
    expectReason(certificate(signer, { extensions: [paddedOid] }), 'invalid-oid');
    const emptyOid = seq(tlv(0x06), octetString(NULL));
    expectReason(certificate(signer, { extensions: [emptyOid] }), 'invalid-oid');
    const longBoolean = seq(oid('2.5.29.19'), tlv(0x01, Uint8Array.from([0xff, 0xff])), octetString(seq()));
    expectReason(certificate(signer, { extensions: [longBoolean] }), 'invalid-boolean');
    const tbs = certificate(signer, {});
    const broken = Uint8Array.from(tbs);
    // The signature BIT STRING's unused-bits byte sits right after its header, 64 + 1 bytes from the end.
    broken[broken.length - 65] = 8;
    expectReason(broken, 'invalid-bit-string');
  });

  it('rejects elements out of place inside the TBSCertificate', () => {
    expectReason(certificate(signer, { trailing: [integer(1n)] }), 'trailing-data');
    expectReason(certificate(signer, { issuer: integer(1n) }), 'unexpected-tag');
    expectReason(
      certificate(signer, { issuer: seq(seq(oid('2.5.4.3'), utf8('not in a SET'))) }),
      'invalid-name',
    );
    expectReason(
      certificate(signer, { subject: seq(tlv(0x31, seq(oid('2.5.4.3'), utf8('a'), utf8('b')))) }),
      'invalid-name',
    );
  });

  it('rejects broken extension values as invalid-extension, naming the extension', () => {
    const cases: Array<[Uint8Array, string]> = [
      [extension('2.5.29.17', seq(tlv(0x89, Buffer.from('x')))), 'subjectAltName'],
      [
        extension('2.5.29.17', concat(seq(tlv(0x82, Buffer.from('a'))), Uint8Array.from([0]))),
        'subjectAltName',
      ],
      [extension('2.5.29.17', seq(explicit(0, oid('1.2.3'), utf8('not explicit')))), 'subjectAltName'],
      [extension('2.5.29.15', tlv(0x03)), 'keyUsage'],
      [extension('2.5.29.19', seq(integer(-1n))), 'basicConstraints'],
      [extension('2.5.29.37', seq(utf8('not an OID'))), 'extendedKeyUsage'],
      [extension('2.5.29.14', utf8('not an OCTET STRING')), 'subjectKeyIdentifier'],
      [extension('2.5.29.35', seq(tlv(0x85, Uint8Array.from([1])))), 'authorityKeyIdentifier'],
      [extension('2.5.29.31', seq(seq(explicit(0, explicit(5, seq()))))), 'crlDistributionPoints'],
      [extension('1.3.6.1.5.5.7.1.1', seq(seq(oid('1.3.6.1.5.5.7.48.1')))), 'authorityInfoAccess'],
      [extension('2.5.29.32', seq(seq(utf8('policy')))), 'certificatePolicies'],
    ];
    for (const [broken, label] of cases) {
      const error = parseError(certificate(signer, { extensions: [broken] }));
      expect(error.reason, label).toBe('invalid-extension');
      expect(error.message, label).toContain(label);
    }
    // Unknown extensions are opaque: their content is not judged.
    expect(
      parseCertificate(
        certificate(signer, { extensions: [extension('1.2.3.4', Uint8Array.from([0xff]), true)] }),
      ).extensions,
    ).toEqual([{ oid: '1.2.3.4', name: null, critical: true }]);
  });

  it('rejects broken keys as invalid-public-key', () => {
    const rsa = (key: Uint8Array) => spki(algorithm('1.2.840.113549.1.1.1', NULL), key);
    expectReason(
      certificate(signer, { subjectPublicKeyInfo: rsa(seq(integer(-5n), integer(65537n))) }),
      'invalid-public-key',
    );
    expectReason(certificate(signer, { subjectPublicKeyInfo: rsa(seq(integer(5n))) }), 'invalid-public-key');
    expectReason(
      certificate(signer, { subjectPublicKeyInfo: rsa(Uint8Array.from([0x30, 0x05])) }),
      'invalid-public-key',
    );
    expectReason(
      certificate(signer, { subjectPublicKeyInfo: seq(algorithm('1.3.101.112')) }),
      'invalid-public-key',
    );
    const explicitCurve = spki(algorithm('1.2.840.10045.2.1', seq(integer(1n))), Uint8Array.from([4]));
    expectReason(certificate(signer, { subjectPublicKeyInfo: explicitCurve }), 'invalid-public-key');
  });
});

describe('base64 and PEM', () => {
  const base64 = Buffer.from(valid).toString('base64');

  it('decodes strict base64, whitespace allowed', () => {
    const decoded = decodeBase64Der(base64.replace(/(.{64})/g, '$1\r\n'));
    expect(decoded.ok && Buffer.from(decoded.der).equals(Buffer.from(valid))).toBe(true);
  });

  it('rejects anything else with a reason and a position', () => {
    const reasonOf = (text: string) => {
      const result = decodeBase64Der(text);
      return result.ok ? 'ok' : `${result.error.reason}@${result.error.offset}`;
    };
    expect(reasonOf('')).toBe('empty-input@0');
    expect(reasonOf('  \n')).toBe('empty-input@0');
    expect(reasonOf('QUJD!A==')).toBe('invalid-base64@4');
    expect(reasonOf('QUJD-_==')).toBe('invalid-base64@4');
    expect(reasonOf('QUJDRA')).toMatch(/^invalid-base64/);
    expect(reasonOf('QUJDRA=')).toMatch(/^invalid-base64/);
    expect(reasonOf('QUJDRA===')).toMatch(/^invalid-base64/);
    expect(reasonOf('QQ==QUJD')).toBe('invalid-base64@4');
    expect(reasonOf('QR==')).toBe('invalid-base64@1');
    expect(reasonOf('QUJDRQ==')).toBe('ok');
    expect(reasonOf('QUJDRR==')).toBe('invalid-base64@5');
    expect(reasonOf('é')).toBe('invalid-base64@0');
  });

  it('rejects a huge base64 string before scanning it', () => {
    const started = performance.now();
    const result = decodeBase64Der('A'.repeat(20 * 1024 * 1024));
    expect(performance.now() - started).toBeLessThan(50);
    expect(!result.ok && result.error.reason).toBe('too-large');
  });

  it('splits PEM bundles, skips other blocks, trims TRUSTED CERTIFICATE trust data, passes DER through', () => {
    const bundle = pemToDers(readFileSync('/etc/ssl/certs/ca-certificates.crt', 'latin1'));
    expect(bundle.length).toBeGreaterThan(100);
    const block = (label: string, data: Uint8Array) =>
      `-----BEGIN ${label}-----\n${Buffer.from(data)
        .toString('base64')
        .replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
    const trusted = concat(valid, seq(seq(oid('1.3.6.1.5.5.7.3.1'))));
    const mixed = `junk before\n${block('PRIVATE KEY', Uint8Array.from([1, 2, 3]))}${block('CERTIFICATE', valid)}text\n${block('TRUSTED CERTIFICATE', trusted)}${block('X509 CERTIFICATE', valid)}`;
    const ders = pemToDers(mixed);
    expect(ders).toHaveLength(3);
    for (const der of ders) expect(Buffer.from(der).equals(Buffer.from(valid))).toBe(true);
    expect(pemToDers(valid)).toEqual([valid]);
    expect(
      Buffer.from(pemToDers(Buffer.from(block('CERTIFICATE', valid)))[0] ?? []).equals(Buffer.from(valid)),
    ).toBe(true);
    expect(Buffer.from(pemToDers(` ${base64}\n`)[0] ?? []).equals(Buffer.from(valid))).toBe(true);
  });

  it('rejects unterminated blocks, bad base64 inside blocks, and text with no certificate', () => {
    const reasonOf = (input: string) => {
      try {
        pemToDers(input);
        return 'ok';
      } catch (error) {
        return error instanceof CertificateParseError ? error.reason : String(error);
      }
    };
    expect(reasonOf('-----BEGIN CERTIFICATE-----\nQUJD\n')).toBe('invalid-pem');
    expect(reasonOf('-----BEGIN CERTIFICATE\nQUJD\n')).toBe('invalid-pem');
    expect(reasonOf('-----BEGIN CERTIFICATE-----\nQU*D\n-----END CERTIFICATE-----\n')).toBe('invalid-base64');
    expect(reasonOf('hello, world')).toBe('invalid-pem');
    expect(reasonOf('')).toBe('invalid-pem');
    expect(reasonOf('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')).toBe('empty-input');
  });
});

describe('messages', () => {
  it('say what is wrong and where', () => {
    const error = parseError(certificate(signer, { notBefore: utcTime('250230000000Z') }));
    expect(error.message).toMatch(
      /^notBefore: "250230000000Z" is not a valid date and time \(at byte \d+\)$/,
    );
    expect(error.offset).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(Error);
    const name = parseError(certificate(signer, { subject: seq(integer(1n)) }));
    expect(name.message).toMatch(/^subject RDN: expected tag 0x31, found 0x02 \(at byte \d+\)$/);
    expect(name.cause).toBeInstanceOf(CertificateParseError);
  });
});

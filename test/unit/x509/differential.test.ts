// Differential test: every field the reader extracts, compared with `openssl x509` and @peculiar/x509 on hundreds of
// certificates (system CA bundle, openssl-made corpus, hand-crafted edge cases, the simulator's generator). Zero
// mismatches allowed; where the forms differ (dates, serial signs, OpenSSL's long names) both sides are normalised.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import * as peculiar from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSimulatedCertificates } from '#shared/simulator/generator/index';
import { parseCertificate, pemToDers } from '#shared/x509/index';
import type { GeneralName, HashName, KeyFamily, ParsedCertificate } from '#shared/x509/index';
import { craftedCorpus } from '#test/fixtures/x509/crafted';
import { opensslObjectList, opensslViews } from '#test/fixtures/x509/openssl-view';
import type { OpenSslView } from '#test/fixtures/x509/openssl-view';
import { arrayBufferView } from '#shared/bytes';

interface Sample {
  source: 'ca-bundle' | 'openssl' | 'crafted' | 'simulator';
  label: string;
  der: Uint8Array;
}

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const OPENSSL_CORPUS = new URL('../../fixtures/x509/openssl-corpus.pem', import.meta.url);

function loadSamples(): Sample[] {
  const samples: Sample[] = pemToDers(readFileSync(CA_BUNDLE)).map((der, index) => ({
    source: 'ca-bundle',
    label: `CA bundle #${index}`,
    der,
  }));
  let label = '';
  for (const block of readFileSync(OPENSSL_CORPUS, 'latin1').split(/(?=^# )/m)) {
    const title = /^# (.*)$/m.exec(block);
    if (title) label = title[1] ?? '';
    for (const der of pemToDers(block.replace(/^# .*$/m, '')))
      samples.push({ source: 'openssl', label, der });
  }
  for (const crafted of craftedCorpus())
    samples.push({ source: 'crafted', label: crafted.label, der: crafted.der });
  let index = 0;
  for (const generated of generateSimulatedCertificates({ seed: 11, count: 120 })) {
    samples.push({ source: 'simulator', label: `simulator #${index++}`, der: generated.der });
  }
  return samples;
}

// ---- Independent knowledge the comparisons use (written from the standards, not taken from the reader). ----

const DOTTED = /^\d+(\.\d+)+$/;

interface PostQuantumExpectation {
  family: KeyFamily;
  parameterSet: string;
  /** Public key bits, or 'actual' when the key length varies (composites with RSA). */
  keyBits: number | 'actual';
  signatureHash: HashName;
}

const POST_QUANTUM: Record<string, PostQuantumExpectation> = {
  '2.16.840.1.101.3.4.3.17': {
    family: 'ML-DSA',
    parameterSet: 'ML-DSA-44',
    keyBits: 1312 * 8,
    signatureHash: 'none',
  },
  '2.16.840.1.101.3.4.3.18': {
    family: 'ML-DSA',
    parameterSet: 'ML-DSA-65',
    keyBits: 1952 * 8,
    signatureHash: 'none',
  },
  '2.16.840.1.101.3.4.3.19': {
    family: 'ML-DSA',
    parameterSet: 'ML-DSA-87',
    keyBits: 2592 * 8,
    signatureHash: 'none',
  },
  '2.16.840.1.101.3.4.3.32': {
    family: 'ML-DSA',
    parameterSet: 'HashML-DSA-44-with-SHA512',
    keyBits: 1312 * 8,
    signatureHash: 'SHA-512',
  },
  '2.16.840.1.101.3.4.3.20': {
    family: 'SLH-DSA',
    parameterSet: 'SLH-DSA-SHA2-128s',
    keyBits: 256,
    signatureHash: 'none',
  },
  '2.16.840.1.101.3.4.3.31': {
    family: 'SLH-DSA',
    parameterSet: 'SLH-DSA-SHAKE-256f',
    keyBits: 512,
    signatureHash: 'none',
  },
  '2.16.840.1.101.3.4.4.1': {
    family: 'ML-KEM',
    parameterSet: 'ML-KEM-512',
    keyBits: 800 * 8,
    signatureHash: 'unknown',
  },
  '2.16.840.1.101.3.4.4.2': {
    family: 'ML-KEM',
    parameterSet: 'ML-KEM-768',
    keyBits: 1184 * 8,
    signatureHash: 'unknown',
  },
  '2.16.840.1.101.3.4.4.3': {
    family: 'ML-KEM',
    parameterSet: 'ML-KEM-1024',
    keyBits: 1568 * 8,
    signatureHash: 'unknown',
  },
  '1.3.6.1.5.5.7.6.40': {
    family: 'composite',
    parameterSet: 'MLDSA44-ECDSA-P256-SHA256',
    keyBits: 'actual',
    signatureHash: 'SHA-256',
  },
  '1.3.6.1.5.5.7.6.45': {
    family: 'composite',
    parameterSet: 'MLDSA65-ECDSA-P256-SHA512',
    keyBits: (1952 + 65) * 8,
    signatureHash: 'SHA-512',
  },
  '1.3.6.1.5.5.7.6.51': {
    family: 'composite',
    parameterSet: 'MLDSA87-Ed448-SHAKE256',
    keyBits: (2592 + 57) * 8,
    signatureHash: 'SHAKE256',
  },
};

const OPENSSL_DIGESTS: Record<string, HashName> = {
  md2: 'MD2',
  md4: 'MD4',
  md5: 'MD5',
  sha1: 'SHA-1',
  sha224: 'SHA-224',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
  '512-224': 'SHA-512/224',
  '512-256': 'SHA-512/256',
  '3-224': 'SHA3-224',
  '3-256': 'SHA3-256',
  '3-384': 'SHA3-384',
  '3-512': 'SHA3-512',
};

/** Hash and family implied by the signature algorithm name OpenSSL prints. */
function signatureFromOpenSslName(name: string): { hash: HashName; family: KeyFamily } | null {
  let match = /^(md2|md4|md5|sha1|sha224|sha256|sha384|sha512)WithRSA(Encryption)?$/.exec(name);
  if (match) return { hash: OPENSSL_DIGESTS[match[1] ?? ''] ?? 'unknown', family: 'RSA' };
  match = /^sha(512-224|512-256)WithRSAEncryption$/.exec(name);
  if (match) return { hash: OPENSSL_DIGESTS[match[1] ?? ''] ?? 'unknown', family: 'RSA' };
  match = /^RSA-SHA(3-\d+)$/.exec(name);
  if (match) return { hash: OPENSSL_DIGESTS[match[1] ?? ''] ?? 'unknown', family: 'RSA' };
  match = /^ecdsa-with-SHA(1|224|256|384|512)$/.exec(name);
  if (match) return { hash: OPENSSL_DIGESTS[`sha${match[1]}`] ?? 'unknown', family: 'EC' };
  match = /^ecdsa_with_SHA(3-\d+)$/.exec(name);
  if (match) return { hash: OPENSSL_DIGESTS[match[1] ?? ''] ?? 'unknown', family: 'EC' };
  match = /^dsa_with_SHA(224|256|384|512)$/.exec(name);
  if (match) return { hash: OPENSSL_DIGESTS[`sha${match[1]}`] ?? 'unknown', family: 'DSA' };
  if (name === 'dsaWithSHA1') return { hash: 'SHA-1', family: 'DSA' };
  if (name === 'ED25519') return { hash: 'none', family: 'Ed25519' };
  if (name === 'ED448') return { hash: 'none', family: 'Ed448' };
  if (name === 'SM2-with-SM3') return { hash: 'SM3', family: 'EC' };
  if (name === 'rsaEncryption') return { hash: 'unknown', family: 'RSA' };
  return null;
}

const KEY_FAMILY_BY_OPENSSL_NAME: Record<string, KeyFamily> = {
  rsaEncryption: 'RSA',
  rsassaPss: 'RSA',
  'id-ecPublicKey': 'EC',
  dsaEncryption: 'DSA',
  dhKeyAgreement: 'DH',
  'X9.42 DH': 'DH',
  ED25519: 'Ed25519',
  ED448: 'Ed448',
  X25519: 'X25519',
  X448: 'X448',
};

const FIXED_KEY_BITS: Record<string, number> = { ED25519: 256, ED448: 456, X25519: 256, X448: 448 };

const KEY_USAGE_TEXT: Record<string, string> = {
  digitalSignature: 'Digital Signature',
  nonRepudiation: 'Non Repudiation',
  keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment',
  keyAgreement: 'Key Agreement',
  keyCertSign: 'Certificate Sign',
  cRLSign: 'CRL Sign',
  encipherOnly: 'Encipher Only',
  decipherOnly: 'Decipher Only',
};

const KEY_USAGE_FLAGS: Array<[number, string]> = [
  [1, 'digitalSignature'],
  [2, 'nonRepudiation'],
  [4, 'keyEncipherment'],
  [8, 'dataEncipherment'],
  [16, 'keyAgreement'],
  [32, 'keyCertSign'],
  [64, 'cRLSign'],
  [128, 'encipherOnly'],
  [256, 'decipherOnly'],
];

/** otherName types OpenSSL 3.0 prints by name, with the string type it insists on. */
const OPENSSL_OTHER_NAMES: Record<string, string> = {
  '1.3.6.1.4.1.311.20.2.3': 'UPN',
  '1.3.6.1.5.5.7.8.9': 'SmtpUTF8Mailbox',
  '1.3.6.1.5.5.7.8.5': 'XmppAddr',
  '1.3.6.1.5.5.7.8.7': 'SRVName',
  '1.3.6.1.5.5.7.8.8': 'NAIRealm',
};

/** Crafted certificates whose SAN OpenSSL's printer gives up on (it hex-dumps the extension instead). */
const OPENSSL_CANNOT_PRINT_SAN = new Set(['UPN that is not a UTF8String']);

// ---- Normalisers ----

/** OpenSSL prints the serial's magnitude in uppercase hex, "-" first when negative, without the DER sign byte. */
function opensslSerial(certificate: ParsedCertificate): string {
  const hex = certificate.serialNumber;
  if (!certificate.serialNumberNegative) {
    return (hex.length > 2 && hex.startsWith('00') ? hex.slice(2) : hex).toUpperCase();
  }
  const magnitude = (1n << BigInt(hex.length * 4)) - BigInt(`0x${hex}`);
  let text = magnitude.toString(16).toUpperCase();
  if (text.length % 2) text = `0${text}`;
  return `-${text}`;
}

const toLatin1 = (utf16: string): string => Buffer.from(utf16, 'utf8').toString('latin1');
const colonHex = (hex: string): string => (hex.match(/../g) ?? []).join(':').toUpperCase();

/** RFC 4514 string → [type, value bytes as Latin-1] in DER order, undoing OpenSSL's escapes. */
function parseRfc4514(text: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  let type = '';
  let value = '';
  let inValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\') {
      const next = text.slice(i + 1, i + 3);
      if (/^[0-9A-F]{2}$/.test(next)) {
        value += String.fromCharCode(parseInt(next, 16));
        i += 2;
      } else {
        value += text[i + 1] ?? '';
        i += 1;
      }
    } else if (!inValue && c === '=') {
      inValue = true;
    } else if (inValue && (c === ',' || c === '+')) {
      entries.push([type, value]);
      type = '';
      value = '';
      inValue = false;
    } else if (inValue) {
      value += c;
    } else {
      type += c;
    }
  }
  if (text !== '') entries.push([type, value]);
  return entries.reverse();
}

/** X509_NAME_oneline rendering: "/type=value" per attribute, "/" and "+" escaped, non-printables as \xHH. */
function oneline(entries: Array<[string, string]>): string {
  return entries
    .map(([type, value]) => {
      let text = '';
      for (const c of value) {
        const code = c.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) text += `\\x${code.toString(16).toUpperCase().padStart(2, '0')}`;
        else text += c === '/' || c === '+' ? `\\${c}` : c;
      }
      return `/${type}=${text}`;
    })
    .join('');
}

/** A GeneralName as OpenSSL 3.0's i2v_GENERAL_NAME prints it. */
function opensslGeneralName(name: GeneralName, longName: (oid: string) => string): string {
  switch (name.type) {
    case 'dns':
      return `DNS:${name.value}`;
    case 'email':
      return `email:${name.value}`;
    case 'uri':
      return `URI:${name.value}`;
    case 'ip':
      return `IP Address:${name.value}`;
    case 'registeredId':
      return `Registered ID:${longName(name.value)}`;
    case 'directoryName':
      return `DirName:${oneline(parseRfc4514(name.value))}`;
    case 'x400Address':
      return 'X400Name:<unsupported>';
    case 'ediPartyName':
      return 'EdiPartyName:<unsupported>';
    case 'upn':
    case 'otherName': {
      const oid = name.oid ?? '';
      const known = OPENSSL_OTHER_NAMES[oid];
      const value = name.value.startsWith('#') ? '<unsupported>' : toLatin1(name.value);
      return `othername: ${known ?? longName(oid)}::${value}`;
    }
  }
}

function ipBytes(text: string): string {
  if (text.includes('.') && !text.includes(':'))
    return Buffer.from(text.split('.').map(Number)).toString('hex');
  const [head = '', tail = ''] = text.includes('::') ? text.split('::') : [text, ''];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [
    ...headGroups,
    ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  return groups.map((group) => group.padStart(4, '0').toLowerCase()).join('');
}

// ---- The comparisons ----

class Mismatches {
  readonly list: string[] = [];
  checks = 0;
  constructor(private readonly prefix: string) {}
  expect(sample: Sample, field: string, reference: unknown, reader: unknown): void {
    this.checks++;
    const a = JSON.stringify(reference);
    const b = JSON.stringify(reader);
    if (a !== b)
      this.list.push(
        `${this.prefix} ${sample.source} "${sample.label}" ${field}: reference ${a}, reader ${b}`,
      );
  }
}

function compareWithOpenSsl(
  sample: Sample,
  certificate: ParsedCertificate,
  view: OpenSslView,
  longName: (oid: string) => string,
  oidByShortName: Map<string, string>,
  mismatches: Mismatches,
): void {
  const check = (field: string, reference: unknown, reader: unknown) =>
    mismatches.expect(sample, field, reference, reader);
  check('serial', view.serial, opensslSerial(certificate));
  check('subject', view.subject, certificate.subject.rfc4514);
  check('issuer', view.issuer, certificate.issuer.rfc4514);
  check('notBefore', view.notBefore, certificate.notBefore);
  check('notAfter', view.notAfter, certificate.notAfter);
  check('sha1', view.sha1, certificate.sha1);
  check('sha256', view.sha256, certificate.sha256);
  check('version', view.version, certificate.version);

  // Signature algorithm: OpenSSL's name, or the OID when OpenSSL 3.0 does not know it.
  const printed = view.signatureAlgorithms[view.signatureAlgorithms.length - 1] ?? null;
  const signature = certificate.signatureAlgorithm;
  check(
    'signatureAlgorithm',
    printed,
    printed !== null && DOTTED.test(printed) ? signature.oid : signature.name,
  );
  if (view.signatureAlgorithms[0] !== printed)
    check('signatureAlgorithmsMatch', false, certificate.signatureAlgorithmsMatch);
  if (printed === 'rsassaPss') {
    const detail = (prefix: string) => view.signatureDetails.find((line) => line.startsWith(prefix)) ?? '';
    const hash = /Hash Algorithm: (\S+)/.exec(detail('Hash Algorithm'))?.[1] ?? '';
    const mask = /mgf1 with (\S+)/.exec(detail('Mask Algorithm'))?.[1] ?? '';
    const salt = /Salt Length: 0x([0-9A-F]+)/.exec(detail('Salt Length'))?.[1] ?? '';
    check(
      'pss',
      { hash: OPENSSL_DIGESTS[hash], maskGenHash: OPENSSL_DIGESTS[mask], saltLength: parseInt(salt, 16) },
      signature.pss,
    );
    check('signatureHash', OPENSSL_DIGESTS[hash], signature.hash);
    check('signatureFamily', 'RSA', signature.family);
  } else if (printed !== null && DOTTED.test(printed)) {
    const known = POST_QUANTUM[printed];
    check('signatureHash', known ? known.signatureHash : 'unknown', signature.hash);
    check('signatureFamily', known ? known.family : 'unknown', signature.family);
  } else if (printed !== null) {
    const expected = signatureFromOpenSslName(printed);
    check('signatureHash', expected?.hash ?? `no mapping for ${printed}`, signature.hash);
    check('signatureFamily', expected?.family ?? `no mapping for ${printed}`, signature.family);
  }

  // Public key.
  const key = certificate.publicKey;
  const algorithmName = view.publicKeyAlgorithm ?? '';
  const dotted = DOTTED.test(algorithmName);
  check('keyAlgorithm', algorithmName, dotted ? key.algorithmOid : key.algorithmName);
  const firstLine = view.publicKeyLines[0] ?? '';
  const bits = /\((\d+) bit\)/.exec(firstLine);
  const fixed = /^(ED25519|ED448|X25519|X448) Public-Key:$/.exec(firstLine);
  const postQuantum = dotted ? POST_QUANTUM[algorithmName] : undefined;
  if (bits) check('keySizeBits', Number(bits[1]), key.keySizeBits);
  else if (fixed) check('keySizeBits', FIXED_KEY_BITS[fixed[1] ?? ''], key.keySizeBits);
  else if (postQuantum) {
    check(
      'keySizeBits',
      postQuantum.keyBits === 'actual' ? key.keySizeBits : postQuantum.keyBits,
      key.keySizeBits,
    );
    check('parameterSet', postQuantum.parameterSet, key.parameterSet);
  } else {
    check('keySizeBits (OpenSSL could not load the key)', null, key.keySizeBits);
  }
  check(
    'keyFamily',
    postQuantum?.family ?? KEY_FAMILY_BY_OPENSSL_NAME[algorithmName] ?? 'unknown',
    key.family,
  );
  const asn1Curve = view.publicKeyLines.find((line) => line.startsWith('ASN1 OID: '))?.slice(10) ?? null;
  const nistCurve = view.publicKeyLines.find((line) => line.startsWith('NIST CURVE: '))?.slice(12) ?? null;
  if (asn1Curve !== null) {
    check('curve', nistCurve ?? asn1Curve, key.curve);
    check('curveOid', oidByShortName.get(asn1Curve) ?? asn1Curve, key.curveOid);
  } else if (view.publicKeyLines.some((line) => line.startsWith('Field Type:'))) {
    check('curve', 'explicit', key.curve);
  } else {
    check('curve', key.family === 'EC' && key.curveOid !== null ? key.curve : null, key.curve);
  }
  const exponentIndex = view.publicKeyLines.findIndex((line) => line.startsWith('Exponent:'));
  if (exponentIndex >= 0) {
    const inline = /^Exponent: (\d+) \(0x/.exec(view.publicKeyLines[exponentIndex] ?? '');
    let expected: number | string;
    if (inline) {
      expected = Number(inline[1]);
    } else {
      let hex = '';
      for (let i = exponentIndex + 1; /^[0-9a-f:]+$/.test(view.publicKeyLines[i] ?? ''); i++)
        hex += view.publicKeyLines[i];
      const value = BigInt(`0x${hex.replace(/:/g, '')}`);
      expected = value <= 0xffffffffffffn ? Number(value) : `0x${value.toString(16)}`;
    }
    const exponent = key.rsaExponent;
    check(
      'rsaExponent',
      expected,
      typeof exponent === 'string' ? `0x${BigInt(`0x${exponent}`).toString(16)}` : exponent,
    );
  }

  // Extensions: the list, then each decoded one against OpenSSL's rendering.
  check(
    'extensions',
    view.extensions.map((extension) => [extension.name, extension.critical]),
    certificate.extensions.map((extension) => [longName(extension.oid), extension.critical]),
  );
  const first = (name: string) => view.extensions.find((extension) => extension.name === name);
  const san = first('X509v3 Subject Alternative Name');
  if (!OPENSSL_CANNOT_PRINT_SAN.has(sample.label)) {
    check(
      'subjectAltNames',
      san ? san.lines.join('\n') : null,
      certificate.subjectAltNames
        ? certificate.subjectAltNames.map((name) => opensslGeneralName(name, longName)).join(', ')
        : null,
    );
  }
  const keyUsage = first('X509v3 Key Usage');
  check(
    'keyUsage',
    keyUsage?.lines[0] ?? null,
    certificate.keyUsage?.map((usage) => KEY_USAGE_TEXT[usage]).join(', ') ?? null,
  );
  const extendedKeyUsage = first('X509v3 Extended Key Usage');
  check(
    'extendedKeyUsage',
    extendedKeyUsage?.lines[0] ?? null,
    certificate.extendedKeyUsage?.map((usage) => longName(usage.oid)).join(', ') ?? null,
  );
  const basicConstraints = first('X509v3 Basic Constraints');
  const constraints = certificate.basicConstraints;
  check(
    'basicConstraints',
    basicConstraints ? [basicConstraints.critical, basicConstraints.lines[0]] : null,
    constraints.present
      ? [
          constraints.critical,
          `CA:${constraints.cA ? 'TRUE' : 'FALSE'}${constraints.pathLen === null ? '' : `, pathlen:${constraints.pathLen}`}`,
        ]
      : null,
  );
  const subjectKeyIdentifier = first('X509v3 Subject Key Identifier');
  check(
    'subjectKeyIdentifier',
    subjectKeyIdentifier?.lines[0] ?? null,
    certificate.subjectKeyIdentifier === null ? null : colonHex(certificate.subjectKeyIdentifier),
  );
  const authorityKeyIdentifier = first('X509v3 Authority Key Identifier');
  check(
    'authorityKeyIdentifier',
    // OpenSSL prints "keyid:" only when the issuer and serial follow.
    authorityKeyIdentifier?.lines
      .find((line) => /^(keyid:)?[0-9A-F]{2}(:[0-9A-F]{2})*$/.test(line))
      ?.replace('keyid:', '') ?? null,
    certificate.authorityKeyIdentifier === null ? null : colonHex(certificate.authorityKeyIdentifier),
  );
  const crl = first('X509v3 CRL Distribution Points');
  if (crl) {
    const uris: string[] = [];
    let block = '';
    for (const line of crl.lines) {
      if (/^[A-Za-z ]+:$/.test(line)) block = line;
      else if (block === 'Full Name:' && line.startsWith('URI:')) uris.push(line.slice(4));
    }
    check('crlDistributionPoints', uris, certificate.crlDistributionPoints);
  } else {
    check('crlDistributionPoints', null, certificate.crlDistributionPoints);
  }
  const access = first('Authority Information Access');
  check(
    'authorityInfoAccess',
    access
      ? {
          ocsp: access.lines.filter((line) => line.startsWith('OCSP - URI:')).map((line) => line.slice(11)),
          caIssuers: access.lines
            .filter((line) => line.startsWith('CA Issuers - URI:'))
            .map((line) => line.slice(17)),
        }
      : null,
    certificate.authorityInfoAccess,
  );
  const policies = first('X509v3 Certificate Policies');
  check(
    'certificatePolicies',
    policies
      ? policies.lines.filter((line) => line.startsWith('Policy: ')).map((line) => line.slice(8))
      : null,
    certificate.certificatePolicies?.map(longName) ?? null,
  );
}

interface PeculiarName {
  oid: string;
  value: string;
  universal: boolean;
}

/** Universal string tags whose characters are single bytes: @peculiar/x509 hands them over undecoded (anyValue). */
const SINGLE_BYTE_STRING_TAGS = new Set([0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b]);
const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;

function peculiarNames(name: asn1X509.Name): PeculiarName[][] {
  return Array.from(name, (rdn) =>
    Array.from(rdn, (attribute) => {
      const any = attribute.value.anyValue ? Buffer.from(attribute.value.anyValue) : null;
      let value: string;
      if (any && SINGLE_BYTE_STRING_TAGS.has(any[0] ?? 0) && (any[1] ?? 0x80) < 0x80) {
        value = any.subarray(2).toString('latin1');
      } else if (any) {
        value = `#${any.toString('hex')}`;
      } else {
        value = attribute.value.toString();
      }
      return { oid: attribute.type, value, universal: attribute.value.universalString !== undefined };
    }),
  );
}

function readerNames(
  certificateName: ParsedCertificate['subject'],
  reference: PeculiarName[][],
): PeculiarName[][] {
  const rdns: PeculiarName[][] = [];
  for (const attribute of certificateName.attributes) {
    const rdn = (rdns[attribute.rdn] ??= []);
    let value = attribute.value.startsWith('#') ? attribute.value.toLowerCase() : attribute.value;
    // asn1js keeps only the low 16 bits of each UniversalString character beyond the BMP (OpenSSL agrees with the
    // reader on the real character).
    const universal = reference[attribute.rdn]?.[rdn.length]?.universal ?? false;
    if (universal)
      value = value.replace(ASTRAL, (c) => String.fromCharCode((c.codePointAt(0) ?? 0) & 0xffff));
    rdn.push({ oid: attribute.oid, value, universal });
  }
  return Array.from(rdns, (rdn) => rdn ?? []);
}

function peculiarGeneralName(name: asn1X509.GeneralName, oidByShortName: Map<string, string>): unknown {
  if (name.dNSName !== undefined) return ['dns', name.dNSName];
  if (name.rfc822Name !== undefined) return ['email', name.rfc822Name];
  if (name.uniformResourceIdentifier !== undefined) return ['uri', name.uniformResourceIdentifier];
  if (name.iPAddress !== undefined) {
    // @peculiar/x509 gives hex for lengths other than 4 and 16; OpenSSL (and the reader) say "<invalid length=N>".
    const formatted = name.iPAddress.includes('.') || name.iPAddress.includes(':');
    return ['ip', formatted ? ipBytes(name.iPAddress) : `<invalid length=${name.iPAddress.length / 2}>`];
  }
  if (name.registeredID !== undefined) return ['registeredId', name.registeredID];
  if (name.directoryName)
    return [
      'directoryName',
      peculiarNames(name.directoryName)
        .flat()
        .map((entry) => [entry.oid, toLatin1(entry.value)]),
    ];
  if (name.otherName) {
    const value = Buffer.from(name.otherName.value);
    const text =
      value[0] === 0x0c
        ? value.subarray(2).toString('utf8')
        : value[0] === 0x16
          ? value.subarray(2).toString('latin1')
          : null;
    return ['otherName', name.otherName.typeId, text ?? `#${value.toString('hex').toUpperCase()}`];
  }
  void oidByShortName;
  return ['other'];
}

function readerGeneralName(name: GeneralName, oidByShortName: Map<string, string>): unknown {
  switch (name.type) {
    case 'ip':
      return ['ip', name.value.startsWith('<') ? name.value : ipBytes(name.value)];
    case 'directoryName':
      return [
        'directoryName',
        parseRfc4514(name.value).map(([type, value]) => [oidByShortName.get(type) ?? type, value]),
      ];
    case 'upn':
    case 'otherName':
      return ['otherName', name.oid, name.value];
    case 'x400Address':
    case 'ediPartyName':
      return ['other'];
    default:
      return [name.type, name.value];
  }
}

function compareWithPeculiar(
  sample: Sample,
  certificate: ParsedCertificate,
  oidByShortName: Map<string, string>,
  mismatches: Mismatches,
): void {
  const check = (field: string, reference: unknown, reader: unknown) =>
    mismatches.expect(sample, field, reference, reader);
  const x509 = new peculiar.X509Certificate(arrayBufferView(sample.der));
  const asn = AsnConvert.parse(sample.der, asn1X509.Certificate).tbsCertificate;
  // @peculiar/x509 drops the sign byte of positive serials; the reader keeps the content bytes as encoded.
  const signByte = /^00[89a-f]/.test(certificate.serialNumber);
  check('serial', x509.serialNumber, signByte ? certificate.serialNumber.slice(2) : certificate.serialNumber);
  check('notBefore', x509.notBefore.toISOString().replace('.000Z', 'Z'), certificate.notBefore);
  check('notAfter', x509.notAfter.toISOString().replace('.000Z', 'Z'), certificate.notAfter);
  const subject = peculiarNames(asn.subject);
  const issuer = peculiarNames(asn.issuer);
  check('subject', subject, readerNames(certificate.subject, subject));
  check('issuer', issuer, readerNames(certificate.issuer, issuer));
  check(
    'selfIssued',
    Buffer.from(AsnConvert.serialize(asn.subject)).equals(Buffer.from(AsnConvert.serialize(asn.issuer))),
    certificate.selfIssued,
  );
  check(
    'spkiSha256',
    createHash('sha256').update(Buffer.from(x509.publicKey.rawData)).digest('hex'),
    certificate.publicKey.spkiSha256,
  );
  check(
    'signatureAlgorithmOid',
    AsnConvert.parse(sample.der, asn1X509.Certificate).signatureAlgorithm.algorithm,
    certificate.signatureAlgorithm.oid,
  );
  check('keyAlgorithmOid', asn.subjectPublicKeyInfo.algorithm.algorithm, certificate.publicKey.algorithmOid);
  check(
    'extensions',
    (asn.extensions ?? []).map((extension) => [extension.extnID, extension.critical]),
    certificate.extensions.map((extension) => [extension.oid, extension.critical]),
  );
  const firstValue = (oid: string) =>
    (asn.extensions ?? []).find((extension) => extension.extnID === oid)?.extnValue.buffer;
  const san = firstValue('2.5.29.17');
  check(
    'subjectAltNames',
    san
      ? Array.from(AsnConvert.parse(san, asn1X509.SubjectAlternativeName), (name) =>
          peculiarGeneralName(name, oidByShortName),
        )
      : null,
    certificate.subjectAltNames?.map((name) => readerGeneralName(name, oidByShortName)) ?? null,
  );
  for (const extension of x509.extensions) {
    if (
      certificate.extensions.findIndex((candidate) => candidate.oid === extension.type) !==
      x509.extensions.indexOf(extension)
    )
      continue;
    if (extension instanceof peculiar.KeyUsagesExtension) {
      check(
        'keyUsage',
        KEY_USAGE_FLAGS.filter(([flag]) => (extension.usages & flag) !== 0).map(([, name]) => name),
        certificate.keyUsage,
      );
    } else if (extension instanceof peculiar.ExtendedKeyUsageExtension) {
      check(
        'extendedKeyUsage',
        extension.usages,
        certificate.extendedKeyUsage?.map((usage) => usage.oid),
      );
    } else if (extension instanceof peculiar.BasicConstraintsExtension) {
      check(
        'basicConstraints',
        [extension.ca, extension.pathLength ?? null],
        [certificate.basicConstraints.cA, certificate.basicConstraints.pathLen],
      );
    } else if (extension instanceof peculiar.SubjectKeyIdentifierExtension) {
      check('subjectKeyIdentifier', extension.keyId, certificate.subjectKeyIdentifier);
    } else if (extension instanceof peculiar.AuthorityKeyIdentifierExtension) {
      check('authorityKeyIdentifier', extension.keyId ?? null, certificate.authorityKeyIdentifier);
    } else if (extension instanceof peculiar.CRLDistributionPointsExtension) {
      const uris = extension.distributionPoints.flatMap((point) =>
        (point.distributionPoint?.fullName ?? []).flatMap((name) =>
          name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier],
        ),
      );
      check('crlDistributionPoints', uris, certificate.crlDistributionPoints);
    } else if (extension instanceof peculiar.AuthorityInfoAccessExtension) {
      const uris = (names: peculiar.GeneralName[]) =>
        names.filter((name) => name.type === 'url').map((name) => name.value);
      check(
        'authorityInfoAccess',
        { ocsp: uris(extension.ocsp), caIssuers: uris(extension.caIssuers) },
        certificate.authorityInfoAccess,
      );
    } else if (extension instanceof peculiar.CertificatePolicyExtension) {
      check('certificatePolicies', extension.policies, certificate.certificatePolicies);
    }
  }
}

describe('differential: the reader agrees with OpenSSL and @peculiar/x509', () => {
  let samples: Sample[] = [];
  let parsed: ParsedCertificate[] = [];
  let views: OpenSslView[] = [];
  let longName: (oid: string) => string = (oid) => oid;
  const oidByShortName = new Map<string, string>();

  beforeAll(() => {
    samples = loadSamples();
    parsed = samples.map((sample) => parseCertificate(sample.der));
    views = opensslViews(samples.map((sample) => sample.der));
    const names = new Map<string, string>();
    for (const object of opensslObjectList()) {
      if (!names.has(object.oid)) names.set(object.oid, object.longName);
      oidByShortName.set(object.shortName, object.oid);
    }
    longName = (oid) => names.get(oid) ?? oid;
  }, 120_000);

  it('covers the CA bundle, every algorithm family and the simulator', () => {
    const count = (source: Sample['source']) => samples.filter((sample) => sample.source === source).length;
    expect(count('ca-bundle')).toBeGreaterThan(100);
    expect(count('openssl')).toBeGreaterThan(100);
    expect(count('crafted')).toBeGreaterThan(50);
    expect(count('simulator')).toBe(120);
    const families = new Set(parsed.map((certificate) => certificate.publicKey.family));
    for (const family of [
      'RSA',
      'EC',
      'Ed25519',
      'Ed448',
      'X25519',
      'X448',
      'DSA',
      'DH',
      'ML-DSA',
      'SLH-DSA',
      'ML-KEM',
      'composite',
      'unknown',
    ]) {
      expect(families, family).toContain(family);
    }
    const hashes = new Set(parsed.map((certificate) => certificate.signatureAlgorithm.hash));
    for (const hash of ['MD5', 'SHA-1', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'none'])
      expect(hashes, hash).toContain(hash);
  });

  it('matches openssl x509 on every field of every certificate', () => {
    const mismatches = new Mismatches('openssl');
    samples.forEach((sample, index) => {
      compareWithOpenSsl(
        sample,
        parsed[index] as ParsedCertificate,
        views[index] as OpenSslView,
        longName,
        oidByShortName,
        mismatches,
      );
    });
    expect(mismatches.list).toEqual([]);
    expect(mismatches.checks).toBeGreaterThan(samples.length * 25);
  });

  it('matches @peculiar/x509 on serial, names, dates, keys and extensions', () => {
    const mismatches = new Mismatches('peculiar');
    samples.forEach((sample, index) =>
      compareWithPeculiar(sample, parsed[index] as ParsedCertificate, oidByShortName, mismatches),
    );
    expect(mismatches.list).toEqual([]);
    expect(mismatches.checks).toBeGreaterThan(samples.length * 10);
  });

  it("embeds OpenSSL's object table as the installed openssl prints it", async () => {
    const { OPENSSL_OBJECTS } = await import('#shared/x509/openssl-objects');
    const embedded = new Map<string, [string, string]>();
    for (const line of OPENSSL_OBJECTS.split('\n').filter(Boolean)) {
      const [head = '', longName = ''] = line.split('\t');
      const [oid = '', shortName = ''] = head.split(' ');
      embedded.set(oid, [shortName, longName || shortName]);
    }
    let compared = 0;
    const differences: string[] = [];
    for (const object of opensslObjectList()) {
      // `openssl list -objects` truncates long OIDs, and lists 1.3 twice (org, identified-organization).
      if (object.oid.length >= 26 || object.oid === '1.3') continue;
      compared++;
      const entry = embedded.get(object.oid);
      if (!entry || entry[0] !== object.shortName || entry[1] !== object.longName) {
        differences.push(
          `${object.oid}: openssl ${object.shortName} / ${object.longName}, embedded ${String(entry)}`,
        );
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThan(1000);
  });
});

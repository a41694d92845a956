// The signed usage log (issue 7): an XML document with the instance, its license and the actioned-certificate counts,
// signed with XML-DSig by the instance's own RSA key. This module also owns that key's shape (generate, validate).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { DOMImplementation, DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { SensorError } from '#shared/errors';
import { ACTIONED_CATEGORIES } from './model.ts';
import type { ActionedRun, LicenseDocument } from './model.ts';

/** The instance's signing key pair: PKCS#8 private key and SPKI public key, PEM. */
export interface InstanceKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** RSA because XML-DSig through xml-crypto signs with RSA-SHA256; 3072 bits (NIST 128-bit strength). */
const INSTANCE_KEY_BITS = 3072;
/** Shortest RSA modulus accepted from a stored key: anything weaker is a misconfiguration. */
const MIN_INSTANCE_KEY_BITS = 2048;

/** A stored instance key is not a usable key pair; the message names where it came from, never its content. */
export class InstanceKeyError extends SensorError {}

/** A fresh RSA 3072 key pair for the instance (deploy-time custom resource, local state dir, tests). */
export function generateInstanceKeyPair(): InstanceKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: INSTANCE_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** SHA-256 of the public key's SPKI DER, hex: how the usage log and its verifier name a key. */
export function keyFingerprint(key: string | KeyObject): string {
  // A private key (PEM or object) yields its public half; a public KeyObject is used as is.
  const object = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  return createHash('sha256')
    .update(object.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Checks that `value` is `{ privateKeyPem, publicKeyPem }` holding PEM of one RSA key pair (the public key derived
 * from the private one must equal the stored public key). `source` names where the value came from (a secret ARN, a
 * file) for the error; the error never quotes the value.
 */
export function parseInstanceKeyPair(value: unknown, source: string): InstanceKeyPair {
  const fail = (what: string): never => {
    throw new InstanceKeyError(
      `instance key in ${source} is not usable: ${what}; it must be JSON ` +
        '{ "privateKeyPem": PKCS#8 RSA private key PEM, "publicKeyPem": its SPKI public key PEM }',
    );
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const { privateKeyPem, publicKeyPem } = value as Record<string, unknown>;
  if (typeof privateKeyPem !== 'string' || !privateKeyPem.includes('-----BEGIN PRIVATE KEY-----'))
    return fail('privateKeyPem is missing or not a PKCS#8 PEM');
  if (typeof publicKeyPem !== 'string' || !publicKeyPem.includes('-----BEGIN PUBLIC KEY-----'))
    return fail('publicKeyPem is missing or not an SPKI PEM');
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    return fail('privateKeyPem does not parse');
  }
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch {
    return fail('publicKeyPem does not parse');
  }
  if (privateKey.asymmetricKeyType !== 'rsa' || publicKey.asymmetricKeyType !== 'rsa')
    return fail(
      `the keys must be RSA (found ${privateKey.asymmetricKeyType ?? '?'}/${publicKey.asymmetricKeyType ?? '?'})`,
    );
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_INSTANCE_KEY_BITS)
    return fail(`the RSA key has ${bits} bits; at least ${MIN_INSTANCE_KEY_BITS} are required`);
  if (keyFingerprint(createPublicKey(privateKey)) !== keyFingerprint(publicKey))
    return fail('publicKeyPem is not the public half of privateKeyPem');
  return { privateKeyPem, publicKeyPem };
}

// ---------------------------------------------------------------------------------------------------------------------
// The usage log document.

export const USAGE_LOG_NAMESPACE = 'urn:keyfactor-command-sensor:usage-log:1';
/** The root's Id: the one Reference of the signature points at it (`URI="#usage-log"`). */
export const USAGE_LOG_ID = 'usage-log';
/** Largest usage log verifyUsageLog reads (a year of daily runs is a few hundred KB). */
export const MAX_USAGE_LOG_BYTES = 10 * 1024 * 1024;

const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const ALG = {
  signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  c14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

export interface UsageLogInput {
  instance: { instanceId: string; deployment: string; sensorVersion: string };
  generatedAt: string;
  license: LicenseDocument | null;
  /** The installed license's state as the service sees it (e.g. `valid`, `expired`, `none`). */
  licenseStatus: string;
  runs: ActionedRun[];
}

export type UsageLogVerification = {
  valid: boolean;
  /** Why it is not valid (what is wrong, never key material). */
  reason?: string;
  /** SHA-256 of the signing key's SPKI DER, hex; null when no usable key was found. */
  keyFingerprint: string | null;
  /** From the signed content when valid; from the document (unverified) otherwise, when readable. */
  instanceId: string | null;
  licenseId: string | null;
  generatedAt: string | null;
  /** Runs in the signed content (0 when not valid). */
  runs: number;
};

/** XML 1.0 cannot carry these characters at all (not even escaped); they become U+FFFD rather than break the file. */
function xmlText(value: string): string {
  return value.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}

/** RSA public key → `<ds:KeyValue><ds:RSAKeyValue>` content (modulus and exponent, base64 big-endian). */
function rsaKeyValue(publicKey: KeyObject, prefix: string): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const b64 = (v: string | undefined): string => Buffer.from(v ?? '', 'base64url').toString('base64');
  const p = prefix ? `${prefix}:` : '';
  return (
    `<${p}KeyValue><${p}RSAKeyValue><${p}Modulus>${b64(jwk.n)}</${p}Modulus>` +
    `<${p}Exponent>${b64(jwk.e)}</${p}Exponent></${p}RSAKeyValue></${p}KeyValue>`
  );
}

/**
 * The signed usage log: the instance, its license and features, and the actioned-certificate runs, signed with
 * XML-DSig (enveloped, RSA-SHA256, SHA-256 digest, exclusive C14N) by the instance key; KeyInfo carries the public
 * key as an RSAKeyValue. Every value goes through the DOM, so hostile strings are escaped, never spliced.
 */
export function buildUsageLog(
  input: UsageLogInput,
  key: { privateKeyPem: string; publicKeyPem: string },
): string {
  const pair = parseInstanceKeyPair(key, 'the usage-log signing key');
  const doc = new DOMImplementation().createDocument(USAGE_LOG_NAMESPACE, 'UsageLog', null);
  const root = doc.documentElement;
  root.setAttribute('Id', USAGE_LOG_ID);
  const element = (
    parent: Element,
    name: string,
    attributes: Record<string, string | number | boolean> = {},
  ) => {
    const child = doc.createElementNS(USAGE_LOG_NAMESPACE, name);
    for (const [attr, value] of Object.entries(attributes)) child.setAttribute(attr, xmlText(String(value)));
    parent.appendChild(child);
    return child;
  };
  const text = (parent: Element, name: string, value: string) => {
    element(parent, name).appendChild(doc.createTextNode(xmlText(value)));
  };

  element(root, 'Instance', {
    instanceId: input.instance.instanceId,
    deployment: input.instance.deployment,
    sensorVersion: input.instance.sensorVersion,
    generatedAt: input.generatedAt,
  });

  const license = input.license;
  const siteLicense = license?.actionedCertificates.type === 'Site-License';
  if (license) {
    const el = element(root, 'License', {
      licenseId: license.licenseId,
      licensee: license.licensee,
      issuedAt: license.issuedAt,
      expiresAt: license.expiresAt,
      status: input.licenseStatus,
    });
    const features = element(el, 'Features');
    for (const feature of license.features) text(features, 'Feature', feature);
    const allowance = license.actionedCertificates;
    element(el, 'ActionedCertificates', {
      type: allowance.type,
      allowance: allowance.type === 'Limited' ? allowance.allowance : 'N/A',
    });
  } else {
    element(root, 'License', { status: input.licenseStatus });
  }

  const counts = element(
    root,
    'ActionedCertificateCounts',
    siteLicense ? { licenseType: 'Site-License' } : {},
  );
  for (const run of input.runs) {
    const el = element(counts, 'Run', {
      runId: run.runId,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      trigger: run.trigger,
      total: run.total,
      examined: run.examined,
      sensors: run.sensors,
      // Site-License or no license: no allowance, so "over the limit" does not apply.
      allowance: run.allowance ?? 'N/A',
      overLimit: run.allowance === null ? 'N/A' : run.overLimit,
    });
    for (const category of ACTIONED_CATEGORIES)
      element(el, 'Category', { name: category, count: run.categories[category] });
    for (const warning of run.warnings) text(el, 'Warning', warning);
  }

  indent(root, 1);
  const unsigned = new XMLSerializer().serializeToString(doc);
  const signer = new SignedXml({
    privateKey: pair.privateKeyPem,
    publicCert: pair.publicKeyPem,
    signatureAlgorithm: ALG.signature,
    canonicalizationAlgorithm: ALG.c14n,
    getKeyInfoContent: (args) => rsaKeyValue(createPublicKey(pair.publicKeyPem), args?.prefix ?? ''),
  });
  signer.addReference({
    xpath: `/*[local-name(.)='UsageLog' and namespace-uri(.)='${USAGE_LOG_NAMESPACE}']`,
    transforms: [ALG.enveloped, ALG.c14n],
    digestAlgorithm: ALG.digest,
  });
  signer.computeSignature(unsigned, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${signer.getSignedXml()}\n`;
}

/** Indents element content (the whitespace is signed like the rest) so the downloaded log is readable. */
function indent(element: Element, depth: number): void {
  const children = childElements(element);
  if (children.length === 0) return;
  const doc = element.ownerDocument;
  for (const child of children) {
    element.insertBefore(doc.createTextNode(`\n${'  '.repeat(depth)}`), child);
    indent(child, depth + 1);
  }
  element.appendChild(doc.createTextNode(`\n${'  '.repeat(depth - 1)}`));
}

/** Thrown inside verifyUsageLog for a document it refuses; turned into `{ valid: false, reason }`. */
class Refused extends Error {}

function parseStrict(xml: string, what: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: () => undefined,
      error: (message: string) => errors.push(String(message)),
      fatalError: (message: string) => errors.push(String(message)),
    },
  }).parseFromString(xml, 'text/xml');
  if (errors.length > 0 || !doc.documentElement)
    throw new Refused(`${what} is not well-formed XML: ${(errors[0] ?? 'no root element').split('\n')[0]}`);
  return doc;
}

const childElements = (node: Node): Element[] =>
  Array.from(node.childNodes).filter((n): n is Element => n.nodeType === 1);

function descendants(root: Element, ns: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(ns, localName));
}

/** The RSA public key an RSAKeyValue carries. */
function keyFromKeyInfo(signature: Element): KeyObject {
  const keyValues = descendants(signature, DSIG_NS, 'RSAKeyValue');
  if (keyValues.length !== 1)
    throw new Refused('the signature must carry exactly one RSAKeyValue in its KeyInfo');
  const [rsa] = keyValues as [Element];
  const part = (name: string): string => {
    const els = childElements(rsa).filter((e) => e.namespaceURI === DSIG_NS && e.localName === name);
    const value = els.length === 1 ? (els[0]?.textContent ?? '').replace(/\s+/g, '') : '';
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value))
      throw new Refused(`the KeyInfo's RSAKeyValue has no valid ${name}`);
    return Buffer.from(value, 'base64').toString('base64url');
  };
  try {
    return createPublicKey({ key: { kty: 'RSA', n: part('Modulus'), e: part('Exponent') }, format: 'jwk' });
  } catch (err) {
    if (err instanceof Refused) throw err;
    throw new Refused('the KeyInfo does not hold a usable RSA public key');
  }
}

/** Reads the fields verifyUsageLog reports from a UsageLog element. */
function summary(
  root: Element,
): Pick<UsageLogVerification, 'instanceId' | 'licenseId' | 'generatedAt' | 'runs'> {
  const first = (name: string): Element | undefined =>
    childElements(root).find((e) => e.namespaceURI === USAGE_LOG_NAMESPACE && e.localName === name);
  const instance = first('Instance');
  const license = first('License');
  const counts = first('ActionedCertificateCounts');
  return {
    instanceId: instance?.getAttribute('instanceId') ?? null,
    generatedAt: instance?.getAttribute('generatedAt') ?? null,
    licenseId: license?.getAttribute('licenseId') || null,
    runs: counts ? childElements(counts).filter((e) => e.localName === 'Run').length : 0,
  };
}

/**
 * Verifies a usage log: well-formed, no DTD, at most 10 MiB; one enveloped signature, a direct child of the root,
 * whose single Reference is `#usage-log` = the root (so the whole document is signed and no wrapped copy can be
 * substituted); only the algorithms buildUsageLog uses; the signature checks with the key in KeyInfo, which must be
 * the pinned `publicKeyPem` when one is given. What it reports is read from the signed content.
 */
export function verifyUsageLog(xml: string, options: { publicKeyPem?: string } = {}): UsageLogVerification {
  let fingerprint: string | null = null;
  let unverified: ReturnType<typeof summary> = {
    instanceId: null,
    licenseId: null,
    generatedAt: null,
    runs: 0,
  };
  try {
    if (Buffer.byteLength(xml, 'utf8') > MAX_USAGE_LOG_BYTES)
      throw new Refused(`the usage log is larger than ${MAX_USAGE_LOG_BYTES} bytes`);
    // No DTDs at all: entity expansion and external entities are how XML parsers are attacked.
    if (/<!DOCTYPE|<!ENTITY/i.test(xml))
      throw new Refused('the usage log contains a DTD (DOCTYPE/ENTITY), refused');
    const doc = parseStrict(xml, 'the usage log');
    const root = doc.documentElement;
    if (root.namespaceURI !== USAGE_LOG_NAMESPACE || root.localName !== 'UsageLog')
      throw new Refused(`the root element must be UsageLog in ${USAGE_LOG_NAMESPACE}`);
    unverified = { ...summary(root), runs: 0 };
    // Canonicalisation ignores comments and unwraps CDATA; the builder emits neither, so their presence is an edit.
    const kinds: Record<number, string> = {
      4: 'a CDATA section',
      7: 'a processing instruction',
      8: 'a comment',
    };
    const walk = (node: Node): void => {
      for (const child of Array.from(node.childNodes ?? [])) {
        const kind = kinds[child.nodeType];
        if (kind && !(child.nodeType === 7 && child.nodeName === 'xml'))
          throw new Refused(`the usage log contains ${kind}, which the sensor never writes (edited)`);
        walk(child);
      }
    };
    walk(doc);
    if (root.getAttribute('Id') !== USAGE_LOG_ID)
      throw new Refused(`the root element's Id must be "${USAGE_LOG_ID}"`);

    const signatures = Array.from(doc.getElementsByTagNameNS(DSIG_NS, 'Signature'));
    if (signatures.length === 0) throw new Refused('the usage log is not signed (no Signature element)');
    if (signatures.length > 1)
      throw new Refused(`the usage log has ${signatures.length} Signature elements; one is allowed`);
    const [signature] = signatures as [Element];
    if (signature.parentNode !== root)
      throw new Refused('the Signature must be a direct child of the UsageLog root');

    // Exactly the algorithms buildUsageLog uses: no downgrade (SHA-1, HMAC) and no unexpected transforms.
    const algorithm = (localName: string): string[] =>
      descendants(signature, DSIG_NS, localName).map((e) => e.getAttribute('Algorithm') ?? '');
    const expect = (localName: string, wanted: string[]): void => {
      const found = algorithm(localName);
      if (found.join(' ') !== wanted.join(' '))
        throw new Refused(`unexpected ${localName} algorithm(s): ${found.join(', ') || 'none'}`);
    };
    expect('CanonicalizationMethod', [ALG.c14n]);
    expect('SignatureMethod', [ALG.signature]);
    expect('DigestMethod', [ALG.digest]);
    expect('Transform', [ALG.enveloped, ALG.c14n]);
    const references = descendants(signature, DSIG_NS, 'Reference');
    if (references.length !== 1 || references[0]?.getAttribute('URI') !== `#${USAGE_LOG_ID}`)
      throw new Refused(`the signature must have exactly one Reference, to "#${USAGE_LOG_ID}" (the root)`);
    // The root is the only element with that id: no second "usage-log" element for a wrapped copy to hide in.
    // By local name and in any namespace, as xml-crypto resolves ids (`wsu:Id` counts too).
    const idHolders = Array.from(doc.getElementsByTagName('*')).filter((e) =>
      Array.from(e.attributes).some(
        (a) => ['Id', 'ID', 'id'].includes(a.localName ?? a.name) && a.value === USAGE_LOG_ID,
      ),
    );
    if (idHolders.length !== 1) throw new Refused(`more than one element has the id "${USAGE_LOG_ID}"`);

    const embedded = keyFromKeyInfo(signature);
    fingerprint = keyFingerprint(embedded);
    if (options.publicKeyPem !== undefined) {
      let pinned: string;
      try {
        pinned = keyFingerprint(options.publicKeyPem);
      } catch {
        throw new Refused('the pinned public key is not a PEM public key');
      }
      if (pinned !== fingerprint)
        throw new Refused(`signed by key ${fingerprint}, not by the pinned public key ${pinned}`);
    }

    const verifier = new SignedXml({
      publicCert: embedded.export({ type: 'spki', format: 'pem' }).toString(),
      // Never take a key from anything but what was checked above.
      getCertFromKeyInfo: () => null,
    });
    verifier.loadSignature(signature);
    let ok: boolean;
    try {
      ok = verifier.checkSignature(xml);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Refused(
        /signature value/.test(message)
          ? 'the signature value does not match (the log or its signature was edited)'
          : message,
      );
    }
    if (!ok) throw new Refused('the digest does not match: the signed content was edited');

    const signed = verifier.getSignedReferences();
    if (signed.length !== 1) throw new Refused('the signature must cover exactly the root element');
    const signedRoot = parseStrict(signed[0] ?? '', 'the signed content').documentElement;
    if (signedRoot.localName !== 'UsageLog' || signedRoot.getAttribute('Id') !== USAGE_LOG_ID)
      throw new Refused('the signed content is not the UsageLog root');
    return { valid: true, keyFingerprint: fingerprint, ...summary(signedRoot) };
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    return { valid: false, reason: err.message, keyFingerprint: fingerprint, ...unverified };
  }
}

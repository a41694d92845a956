// The signed usage log: a built log verifies, and every edit to it — content, structure, signature, key — is refused;
// signature wrapping, DTDs and oversize documents are refused; hostile strings are escaped, never spliced.
import { createHash, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DOMParser } from '@xmldom/xmldom';
import {
  MAX_USAGE_LOG_BYTES,
  USAGE_LOG_NAMESPACE,
  buildUsageLog,
  generateInstanceKeyPair,
  keyFingerprint,
  verifyUsageLog,
} from '#shared/license/usage-log';
import type { UsageLogInput } from '#shared/license/usage-log';
import type { ActionedRun, LicenseDocument } from '#shared/license/model';

const key = generateInstanceKeyPair();
const otherKey = generateInstanceKeyPair();

const license: LicenseDocument = {
  format: 'kfsensor-license/1',
  licenseId: 'LIC-2026-0001',
  licensee: 'Example Corp',
  instanceId: 'inst-7f3a',
  issuedAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2027-01-01T00:00:00.000Z',
  features: ['api-scans', 'scheduled-scans', 'actioned-certificates'],
  actionedCertificates: { type: 'Limited', allowance: 100 },
};

function run(i: number, overrides: Partial<ActionedRun> = {}): ActionedRun {
  return {
    runId: `run-${i}`,
    trigger: 'schedule',
    startedAt: `2026-02-0${i}T02:00:00.000Z`,
    finishedAt: `2026-02-0${i}T02:01:30.000Z`,
    total: 120 + i,
    categories: {
      requested: 11 + i,
      revokedLastWeek: 2,
      metadata: 37,
      sslEndpoint: 48,
      certificateStore: 5,
      privateKey: 9,
      alertOrWorkflowCollection: 63,
    },
    examined: 900 + i,
    sensors: 2,
    allowance: 100,
    overLimit: true,
    warnings: [],
    ...overrides,
  };
}

function input(overrides: Partial<UsageLogInput> = {}): UsageLogInput {
  return {
    instance: { instanceId: 'inst-7f3a', deployment: 'aws:123456789012/eu-west-1', sensorVersion: '0.1.0' },
    generatedAt: '2026-02-05T10:00:00.000Z',
    license,
    licenseStatus: 'valid',
    runs: [
      run(3),
      run(2, { warnings: ['collection "Old" query does not parse'] }),
      run(1, { overLimit: false }),
    ],
    ...overrides,
  };
}

const xml = buildUsageLog(input(), key);

/** Replaces exactly one occurrence (the test fails loudly if the text to edit is not there). */
function replaceOnce(source: string, from: string | RegExp, to: string): string {
  const out = source.replace(from, to);
  if (out === source) throw new Error(`mutation found nothing to replace: ${String(from)}`);
  return out;
}

/** Changes one base64 character of an element's text. */
function flipBase64(source: string, element: string): string {
  const match = new RegExp(`<ds:${element}>([^<]+)</ds:${element}>`).exec(source);
  if (!match?.[1]) throw new Error(`no ${element}`);
  const value = match[1];
  const at = Math.floor(value.length / 2);
  const flipped = value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1);
  return source.replace(value, flipped);
}

const signatureBlock = (source: string): string => {
  const match = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(source);
  if (!match) throw new Error('no signature');
  return match[0];
};

/** Verifies `source` and expects it refused for `reason`. */
function expectRefused(source: string, reason: RegExp): void {
  const result = verifyUsageLog(source);
  expect(result.valid).toBe(false);
  expect(result.reason).toMatch(reason);
}

function parse(source: string): Document {
  return new DOMParser().parseFromString(source, 'text/xml');
}

describe('buildUsageLog', () => {
  it('writes the instance, the license and its features, and every run with its seven categories', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<UsageLog')).toBe(true);
    const doc = parse(xml);
    const root = doc.documentElement;
    expect(root.namespaceURI).toBe(USAGE_LOG_NAMESPACE);
    expect(root.getAttribute('Id')).toBe('usage-log');
    const instance = root.getElementsByTagName('Instance')[0];
    expect(instance?.getAttribute('instanceId')).toBe('inst-7f3a');
    expect(instance?.getAttribute('deployment')).toBe('aws:123456789012/eu-west-1');
    expect(instance?.getAttribute('sensorVersion')).toBe('0.1.0');
    const lic = root.getElementsByTagName('License')[0];
    expect(lic?.getAttribute('licenseId')).toBe('LIC-2026-0001');
    expect(lic?.getAttribute('status')).toBe('valid');
    expect(Array.from(root.getElementsByTagName('Feature')).map((f) => f.textContent)).toEqual(
      license.features,
    );
    const actioned = root.getElementsByTagName('ActionedCertificates')[0];
    expect([actioned?.getAttribute('type'), actioned?.getAttribute('allowance')]).toEqual(['Limited', '100']);
    const runs = Array.from(root.getElementsByTagName('Run'));
    expect(runs.map((r) => r.getAttribute('runId'))).toEqual(['run-3', 'run-2', 'run-1']);
    expect(runs.map((r) => r.getAttribute('overLimit'))).toEqual(['true', 'true', 'false']);
    const categories = Array.from(runs[0]?.getElementsByTagName('Category') ?? []).map((c) => [
      c.getAttribute('name'),
      c.getAttribute('count'),
    ]);
    expect(categories).toEqual([
      ['requested', '14'],
      ['revokedLastWeek', '2'],
      ['metadata', '37'],
      ['sslEndpoint', '48'],
      ['certificateStore', '5'],
      ['privateKey', '9'],
      ['alertOrWorkflowCollection', '63'],
    ]);
    expect(runs[1]?.getElementsByTagName('Warning')[0]?.textContent).toBe(
      'collection "Old" query does not parse',
    );
    expect(xml).not.toContain('PRIVATE KEY');
  });

  it('Site-License: allowance and over-limit are N/A; no license: only the status', () => {
    const site = buildUsageLog(
      input({
        license: { ...license, actionedCertificates: { type: 'Site-License' } },
        runs: [run(1, { allowance: null, overLimit: false })],
      }),
      key,
    );
    expect(site).toContain('<ActionedCertificates type="Site-License" allowance="N/A"/>');
    expect(site).toContain('<ActionedCertificateCounts licenseType="Site-License">');
    expect(site).toMatch(/allowance="N\/A" overLimit="N\/A"/);
    expect(verifyUsageLog(site).valid).toBe(true);
    const none = buildUsageLog(input({ license: null, licenseStatus: 'none', runs: [] }), key);
    expect(none).toContain('<License status="none"/>');
    expect(verifyUsageLog(none)).toMatchObject({ valid: true, licenseId: null, runs: 0 });
  });

  it('escapes hostile strings through the DOM: they come back exactly, and inject nothing', () => {
    const hostile = `Evil "Corp" <script>alert('x')</script> & Söhne ✓ 🦀 "/><Feature>kerberos</Feature><x a="`;
    const log = buildUsageLog(
      input({
        license: { ...license, licensee: hostile, licenseId: `id-]]>-<!--` },
        instance: { instanceId: `i&'"<>`, deployment: 'd\u0001\u0008x', sensorVersion: '1' },
        runs: [run(1, { warnings: [`</Warning><Warning>injected`, '\uD800 lone surrogate'] })],
      }),
      key,
    );
    expect(log).not.toContain('<script>');
    const root = parse(log).documentElement;
    expect(root.getElementsByTagName('License')[0]?.getAttribute('licensee')).toBe(hostile);
    expect(root.getElementsByTagName('License')[0]?.getAttribute('licenseId')).toBe('id-]]>-<!--');
    expect(root.getElementsByTagName('Feature')).toHaveLength(3);
    expect(root.getElementsByTagName('Instance')[0]?.getAttribute('instanceId')).toBe(`i&'"<>`);
    // Characters XML 1.0 cannot carry at all become U+FFFD instead of an unreadable file.
    expect(root.getElementsByTagName('Instance')[0]?.getAttribute('deployment')).toBe('d\uFFFD\uFFFDx');
    const warnings = Array.from(root.getElementsByTagName('Warning')).map((w) => w.textContent);
    expect(warnings).toEqual(['</Warning><Warning>injected', '\uFFFD lone surrogate']);
    expect(verifyUsageLog(log)).toMatchObject({
      valid: true,
      instanceId: `i&'"<>`,
      licenseId: 'id-]]>-<!--',
    });
  });

  it('refuses to sign with a key pair that does not match, without quoting it', () => {
    expect(() =>
      buildUsageLog(input(), { privateKeyPem: key.privateKeyPem, publicKeyPem: otherKey.publicKeyPem }),
    ).toThrow(/not the public half/);
  });
});

describe('verifyUsageLog', () => {
  it('verifies a built log, with and without the pinned key, reporting the signed content', () => {
    const expected = {
      valid: true,
      keyFingerprint: keyFingerprint(key.publicKeyPem),
      instanceId: 'inst-7f3a',
      licenseId: 'LIC-2026-0001',
      generatedAt: '2026-02-05T10:00:00.000Z',
      runs: 3,
    };
    expect(verifyUsageLog(xml)).toEqual(expected);
    expect(verifyUsageLog(xml, { publicKeyPem: key.publicKeyPem })).toEqual(expected);
    // The fingerprint is the SHA-256 of the SPKI DER: the same value the private key derives.
    expect(expected.keyFingerprint).toBe(keyFingerprint(key.privateKeyPem));
  });

  it('is standard XML-DSig: digest and signature check out with node:crypto alone, without xml-crypto', () => {
    // Exclusive C14N of this document done by hand: no signature (enveloped), namespace declaration first, other
    // attributes sorted by name, empty elements expanded. The builder writes no characters C14N escapes differently.
    const signedXml = xml.replace(/^<\?xml[^>]*\?>\n/, '').trimEnd();
    const canonicalRoot = signedXml
      .replace(signatureBlock(signedXml), '')
      .replace(
        /<([\w:]+)((?:\s+[\w:]+="[^"]*")*)\s*(\/?)>/g,
        (_tag, name: string, attrs: string, empty: string) => {
          const list = [...attrs.matchAll(/([\w:]+)="[^"]*"/g)].map((m) => ({
            name: m[1] ?? '',
            text: m[0],
          }));
          const ns = list.filter((a) => a.name.startsWith('xmlns'));
          const rest = list
            .filter((a) => !a.name.startsWith('xmlns'))
            .sort((a, b) => (a.name < b.name ? -1 : 1));
          const open = `<${name}${[...ns, ...rest].map((a) => ` ${a.text}`).join('')}>`;
          return empty ? `${open}</${name}>` : open;
        },
      );
    const digest = createHash('sha256').update(canonicalRoot, 'utf8').digest('base64');
    expect(xml).toContain(`<ds:DigestValue>${digest}</ds:DigestValue>`);
    const signedInfo = (/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(xml)?.[0] ?? '')
      .replace('<ds:SignedInfo>', '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">')
      .replace(/<(ds:\w+)([^<>]*?)\/>/g, '<$1$2></$1>');
    const signatureValue = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(xml)?.[1] ?? '';
    expect(
      verify(
        'RSA-SHA256',
        Buffer.from(signedInfo, 'utf8'),
        key.publicKeyPem,
        Buffer.from(signatureValue, 'base64'),
      ),
    ).toBe(true);
  });

  it('a year of daily runs builds and verifies', () => {
    const runs = Array.from({ length: 365 }, (_, i) =>
      run(1, { runId: `daily-${i}`, startedAt: new Date(Date.UTC(2025, 0, 1 + i, 2)).toISOString() }),
    );
    const log = buildUsageLog(input({ runs }), key);
    expect(verifyUsageLog(log)).toMatchObject({ valid: true, runs: 365 });
  });

  const signature = signatureBlock(xml);
  const withoutSignature = xml.replace(signature, '');
  const mutations: Array<[string, (source: string) => string, RegExp]> = [
    [
      'a category count',
      (s) => replaceOnce(s, 'name="metadata" count="37"', 'name="metadata" count="36"'),
      /digest/,
    ],
    ['a category name', (s) => replaceOnce(s, 'name="privateKey"', 'name="sslEndpoint"'), /digest/],
    ['a run total', (s) => replaceOnce(s, 'total="123"', 'total="99"'), /digest/],
    [
      'overLimit',
      (s) =>
        replaceOnce(
          s,
          'total="123" examined="903" sensors="2" allowance="100" overLimit="true"',
          'total="123" examined="903" sensors="2" allowance="100" overLimit="false"',
        ),
      /digest/,
    ],
    ['the instanceId', (s) => replaceOnce(s, 'instanceId="inst-7f3a"', 'instanceId="inst-7f3b"'), /digest/],
    ['the allowance', (s) => replaceOnce(s, 'allowance="100"/>', 'allowance="1000"/>'), /digest/],
    ['the license type', (s) => replaceOnce(s, 'type="Limited"', 'type="Site-License"'), /digest/],
    [
      'a feature',
      (s) => replaceOnce(s, '<Feature>api-scans</Feature>', '<Feature>kerberos</Feature>'),
      /digest/,
    ],
    [
      'an added feature',
      (s) => replaceOnce(s, '</Features>', '<Feature>cbom-export</Feature></Features>'),
      /digest/,
    ],
    ['an added attribute', (s) => replaceOnce(s, '<Instance ', '<Instance extra="1" '), /digest/],
    ['a removed run', (s) => replaceOnce(s, /<Run runId="run-1"[\s\S]*?<\/Run>/, ''), /digest/],
    ['a removed warning', (s) => replaceOnce(s, /<Warning>[^<]*<\/Warning>/, ''), /digest/],
    [
      'whitespace in a text value',
      (s) => replaceOnce(s, '<Feature>api-scans</Feature>', '<Feature>api-scans </Feature>'),
      /digest/,
    ],
    ['an added comment', (s) => replaceOnce(s, '<Features>', '<Features><!-- harmless? -->'), /comment/],
    [
      'a CDATA section',
      (s) => replaceOnce(s, '<Feature>api-scans</Feature>', '<Feature><![CDATA[api-scans]]></Feature>'),
      /CDATA/,
    ],
    [
      'a processing instruction',
      (s) => replaceOnce(s, '<Features>', '<Features><?evil x?>'),
      /processing instruction/,
    ],
    ['the removed signature', () => withoutSignature, /not signed/],
    ['one SignatureValue character', (s) => flipBase64(s, 'SignatureValue'), /signature value/],
    ['one DigestValue character', (s) => flipBase64(s, 'DigestValue'), /digest|signature value/],
    ['one Modulus character (another key)', (s) => flipBase64(s, 'Modulus'), /signature value|key/],
    [
      "another key's KeyInfo",
      (s) =>
        s.replace(
          /<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>/,
          signatureBlock(buildUsageLog(input(), otherKey)).replace(
            /^[\s\S]*(<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>)[\s\S]*$/,
            '$1',
          ),
        ),
      /signature value/,
    ],
    ['a removed KeyInfo', (s) => replaceOnce(s, /<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>/, ''), /RSAKeyValue/],
    ['the Reference URI emptied', (s) => replaceOnce(s, 'URI="#usage-log"', 'URI=""'), /Reference/],
    ['the root Id', (s) => replaceOnce(s, 'Id="usage-log"', 'Id="usage-log-2"'), /Id/],
    [
      'a SHA-1 signature method',
      (s) => replaceOnce(s, 'xmldsig-more#rsa-sha256', 'xmldsig#rsa-sha1'),
      /SignatureMethod/,
    ],
    [
      'an extra transform',
      (s) =>
        replaceOnce(
          s,
          '</ds:Transforms>',
          '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/></ds:Transforms>',
        ),
      /Transform/,
    ],
    [
      'a duplicated signature',
      (s) => replaceOnce(s, '</UsageLog>', `${signature}</UsageLog>`),
      /2 Signature elements/,
    ],
    [
      'the signature moved under Instance',
      (s) =>
        replaceOnce(s.replace(signature, ''), /<Instance ([^>]*)\/>/, `<Instance $1>${signature}</Instance>`),
      /direct child/,
    ],
    [
      'the namespace',
      (s) => replaceOnce(s, `xmlns="${USAGE_LOG_NAMESPACE}"`, 'xmlns="urn:other"'),
      /root element/,
    ],
    ['truncation', (s) => s.slice(0, s.length - 40), /well-formed/],
  ];

  it.each(mutations)('refuses an edit: %s', (_name, mutate, reason) => {
    const edited = mutate(xml);
    expect(edited).not.toBe(xml);
    const result = verifyUsageLog(edited);
    expect(result.valid).toBe(false);
    expect(result.reason).toMatch(reason);
    expect(result.runs).toBe(0);
  });

  it('accepts only what canonicalisation makes identical (attribute quotes, empty-element form)', () => {
    const reserialised = xml.replace(
      '<ActionedCertificates type="Limited" allowance="100"/>',
      "<ActionedCertificates type='Limited' allowance='100'></ActionedCertificates>",
    );
    expect(reserialised).not.toBe(xml);
    expect(verifyUsageLog(reserialised).valid).toBe(true);
  });

  describe('signature wrapping', () => {
    const body = xml.replace(/^<\?xml[^>]*\?>\n/, '');
    it('the signed root moved under a new root with another Id', () => {
      const wrapped = `<UsageLog xmlns="${USAGE_LOG_NAMESPACE}" Id="evil"><Instance instanceId="forged"/>${body}</UsageLog>`;
      expectRefused(wrapped, /Id must be/);
    });

    it('a forged root with the same Id and the original tucked inside', () => {
      const forged = body
        .replace(signature, '')
        .replace('instanceId="inst-7f3a"', 'instanceId="forged"')
        .replace('</UsageLog>', `<Original>${body.replace(signature, '')}</Original>${signature}</UsageLog>`);
      const result = verifyUsageLog(forged);
      expect(result.valid).toBe(false);
      expect(result.reason).toMatch(/more than one element has the id/);
    });

    it('a second element carrying the id in another namespace or spelling', () => {
      for (const attribute of ['Id', 'ID', 'id', 'x:Id']) {
        const decoy = `<Decoy xmlns:x="urn:x" ${attribute}="usage-log"/>`;
        const forged = xml.replace('<ActionedCertificateCounts>', `${decoy}<ActionedCertificateCounts>`);
        expect(forged).not.toBe(xml);
        expectRefused(forged, /more than one element has the id/);
      }
    });

    it('the original kept inside the Signature (ds:Object) while the root is forged', () => {
      const original = body.replace(signature, '');
      const forgedSignature = signature.replace(
        '</ds:Signature>',
        `<ds:Object>${original}</ds:Object></ds:Signature>`,
      );
      const forged = original
        .replace('total="123"', 'total="1"')
        .replace('</UsageLog>', `${forgedSignature}</UsageLog>`);
      expect(verifyUsageLog(forged).valid).toBe(false);
    });
  });

  describe('keys', () => {
    it('a log re-signed by another key verifies on its own but not against the pinned key', () => {
      const forged = buildUsageLog(input({ runs: [run(1, { total: 1, overLimit: false })] }), otherKey);
      const alone = verifyUsageLog(forged);
      expect(alone.valid).toBe(true);
      expect(alone.keyFingerprint).toBe(keyFingerprint(otherKey.publicKeyPem));
      const pinned = verifyUsageLog(forged, { publicKeyPem: key.publicKeyPem });
      expect(pinned.valid).toBe(false);
      expect(pinned.reason).toContain(`signed by key ${keyFingerprint(otherKey.publicKeyPem)}`);
      expect(pinned.reason).toContain(keyFingerprint(key.publicKeyPem));
    });

    it('pinning a different key refuses a genuine log; a pinned key that is not PEM is reported', () => {
      expect(verifyUsageLog(xml, { publicKeyPem: otherKey.publicKeyPem })).toMatchObject({
        valid: false,
        keyFingerprint: keyFingerprint(key.publicKeyPem),
      });
      expect(verifyUsageLog(xml, { publicKeyPem: 'not a key' })).toMatchObject({
        valid: false,
        reason: 'the pinned public key is not a PEM public key',
      });
    });
  });

  describe('hostile documents', () => {
    it('refuses a DOCTYPE and entities before parsing', () => {
      const bomb =
        '<?xml version="1.0"?><!DOCTYPE UsageLog [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>' +
        `<UsageLog xmlns="${USAGE_LOG_NAMESPACE}" Id="usage-log">&b;</UsageLog>`;
      expectRefused(bomb, /DTD/);
      const external = xml.replace('<UsageLog', '<!DOCTYPE UsageLog SYSTEM "file:///etc/passwd">\n<UsageLog');
      expectRefused(external, /DTD/);
    });

    it('refuses a document over 10 MiB, non-XML and an empty string', () => {
      const huge = xml.replace('</UsageLog>', `<Pad>${'x'.repeat(MAX_USAGE_LOG_BYTES)}</Pad></UsageLog>`);
      expectRefused(huge, /larger than/);
      expectRefused('{"json": true}', /well-formed/);
      expect(verifyUsageLog('')).toMatchObject({ valid: false });
      expectRefused('<other/>', /root element/);
    });
  });
});

// The finding document: every generated certificate yields a schema-valid finding whose fields match the certificate
// and Command's object; the engine agrees with the generator about what is wrong with each certificate.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '#shared/errors';
import type { CommandCertificate } from '#shared/keyfactor/model';
import {
  DEFAULT_RULES,
  FINDING_DOCUMENT_VERSION,
  analyseCertificate,
  createFindingValidator,
  findingSchema,
  labelsFromRequest,
  severityRank,
} from '#shared/findings/index';
import type { AnalysisContext, Finding, Rule } from '#shared/findings/index';
import { generateSimulatedCertificates } from '#shared/simulator/generator/index';
import type { CertificateTraits } from '#shared/simulator/generator/index';
import { CERTIFICATE_PARSE_ERROR_REASONS } from '#shared/x509/index';
import {
  TEST_NOW,
  commandCertificate,
  craftCertificate,
  tlsServerExtensions,
} from '#test/support/findings/craft';
import {
  TEST_CONTEXT,
  analyseChecked,
  analyseCrafted,
  analyseDerChecked,
  assertSchemaValid,
  ruleIds,
} from '#test/support/findings/harness';

interface Analysed {
  certificate: CommandCertificate;
  der: Buffer;
  traits: CertificateTraits;
  finding: Finding;
}

const inventory: Analysed[] = Array.from(
  generateSimulatedCertificates({ seed: 20260101, count: 3000, now: TEST_NOW }),
  ({ certificate, der, traits }) => ({ certificate, der, traits, finding: analyseChecked(certificate) }),
);

function expectFires(id: string, predicate: (item: Analysed) => boolean): void {
  const fired = inventory.filter((item) => ruleIds(item.finding).includes(id));
  const expected = inventory.filter(predicate);
  expect(expected.length, `the generated set has certificates for ${id}`).toBeGreaterThan(0);
  expect(fired.map((item) => item.certificate.Id)).toEqual(expected.map((item) => item.certificate.Id));
}

describe('findings for a generated inventory', () => {
  it('are all analysed (every finding was checked against the schema as it was made)', () => {
    expect(inventory).toHaveLength(3000);
    expect(inventory.every((item) => item.finding.analysis.status === 'analysed')).toBe(true);
  });

  it('are identified by the SHA-256 of the DER and carry both fingerprints', () => {
    for (const { der, certificate, finding } of inventory.slice(0, 200)) {
      expect(finding.id).toBe(createHash('sha256').update(der).digest('hex'));
      expect(finding.crypto.x509.fingerprints?.sha256).toBe(finding.id);
      expect(finding.crypto.x509.fingerprints?.sha1.toUpperCase()).toBe(certificate.Thumbprint);
    }
    expect(new Set(inventory.map((item) => item.finding.id)).size).toBe(inventory.length);
  });

  it('report the highest severity among the rules that fired', () => {
    for (const { finding } of inventory) {
      const ranks = finding.analysis.rules.map((rule) => severityRank(rule.severity));
      const highest = finding.analysis.highest_severity;
      if (ranks.length === 0) expect(highest).toBe('none');
      else expect(highest === 'none' ? 0 : severityRank(highest)).toBe(Math.max(...ranks));
    }
  });

  it('copy what Command says into crypto.x509.keyfactor', () => {
    const item = inventory.find(
      (candidate) => (candidate.certificate.Locations?.length ?? 0) > 0 && candidate.certificate.Metadata,
    );
    if (item === undefined) throw new Error('the generated set has no certificate in a store');
    const { certificate, finding } = item;
    const keyfactor = finding.crypto.x509.keyfactor;
    expect(keyfactor?.certificate_id).toBe(certificate.Id);
    expect(keyfactor?.cert_state.code).toBe(certificate.CertState);
    expect(keyfactor?.template_name).toBe(certificate.TemplateName ?? null);
    expect(keyfactor?.certificate_authority_name).toBe(certificate.CertificateAuthorityName ?? null);
    expect(keyfactor?.metadata).toEqual(certificate.Metadata);
    expect(keyfactor?.locations[0]?.store_path).toBe(certificate.Locations?.[0]?.StorePath);
    expect(keyfactor?.locations).toHaveLength(certificate.Locations?.length ?? 0);
    expect(finding.observation.source).toEqual({
      type: 'keyfactor-command',
      url: 'https://command.example.com/KeyfactorAPI',
      certificate_id: certificate.Id,
    });
  });

  it('never contain key material or the certificate itself', () => {
    for (const { certificate, finding } of inventory.slice(0, 300)) {
      const text = JSON.stringify(finding);
      expect(text).not.toContain(certificate.ContentBytes.slice(200, 260));
      expect(text).not.toMatch(/PRIVATE KEY|"(?:modulus|public_key_bytes|private_key)"/);
    }
  });

  it('agree with the generator on revoked certificates', () => {
    expectFires('KFS-REV-001', (item) => item.traits.revoked);
  });

  it('agree on expired, expiring and not-yet-valid certificates', () => {
    expectFires('KFS-VAL-001', (item) => item.traits.validity === 'expired');
    // Normal and short lifetimes can also end within the window: the generator's category is a subset.
    const expiring = inventory.filter((item) => ruleIds(item.finding).includes('KFS-VAL-002'));
    const soon = inventory.filter((item) => item.traits.validity === 'expiringSoon');
    expect(soon.length).toBeGreaterThan(0);
    expect(soon.every((item) => expiring.includes(item))).toBe(true);
    expect(
      expiring.some((item) => item.traits.validity === 'expired' || item.traits.validity === 'notYetValid'),
    ).toBe(false);
    expectFires('KFS-VAL-003', (item) => item.traits.validity === 'notYetValid');
  });

  it('agree on RSA-1024 keys and on SHA-1 signatures below the roots', () => {
    expectFires('KFS-KEY-001', (item) => item.traits.leafKey === 'RSA-1024');
    expectFires(
      'KFS-SIG-001',
      (item) => item.traits.signature === 'SHA-1withRSA' && item.traits.role !== 'root',
    );
  });

  it('agree on self-signed leaves and TLS servers without SAN', () => {
    // A self-signed certificate with nothing but cA:TRUE is a working root CA, whatever the generator meant it for.
    const bareCa = (item: Analysed) =>
      item.finding.crypto.x509.basic_constraints?.ca === true &&
      item.finding.crypto.x509.key_usage === null &&
      item.finding.crypto.x509.extended_key_usage === null;
    expectFires(
      'KFS-CRT-001',
      (item) => item.traits.role === 'leaf' && item.traits.selfSigned && !bareCa(item),
    );
    expectFires('KFS-CRT-002', (item) => item.traits.profile === 'tlsServerNoSan');
  });

  it('flag every classical key as quantum-vulnerable and nothing else', () => {
    expectFires('KFS-PQC-001', () => true);
    expect(inventory.every((item) => item.finding.analysis.pqc?.readiness === 'vulnerable')).toBe(true);
  });

  it('carry the labels, sensor and document version of the run', () => {
    const { finding } = inventory[0] as Analysed;
    expect(finding.version).toBe(FINDING_DOCUMENT_VERSION);
    expect(finding['@timestamp']).toBe('2026-01-01T00:00:00.000Z');
    expect(finding.labels).toEqual([{ name: 'environment', value: 'test' }]);
    expect(finding.observation.sensor).toEqual({
      name: 'Findings unit tests',
      type: 'Keyfactor Command',
      version: '0.1.0',
      ran_by: 'vitest',
    });
    expect(finding.object.type).toBe('certificate');
    expect(finding.custom).toEqual({});
  });
});

describe('crypto.x509', () => {
  it('holds the parsed fields in snake_case', () => {
    const der = craftCertificate({ extensions: tlsServerExtensions('api.example.com') });
    const x509 = analyseCrafted(der).crypto.x509;
    expect(x509.subject?.dn).toBe('CN=www.example.com,O=Example Corp');
    expect(x509.subject?.attributes.map((attribute) => attribute.type)).toEqual(['O', 'CN']);
    expect(x509.issuer?.dn).toBe('CN=Findings Test EC CA,O=Findings Test');
    expect(x509.common_name).toBe('www.example.com');
    expect(x509.not_before).toBe('2025-06-01T00:00:00Z');
    expect(x509.public_key).toMatchObject({ algorithm: 'EC', curve: 'P-256', key_size_bits: 256 });
    expect(x509.signature).toMatchObject({
      algorithm_name: 'ecdsa-with-SHA256',
      hash: 'SHA-256',
      algorithm: 'EC',
    });
    expect(x509.subject_alt_names?.dns).toEqual(['api.example.com']);
    expect(x509.extended_key_usage?.map((usage) => usage.name)).toEqual(['serverAuth']);
    expect(x509.key_usage).toEqual(['digitalSignature']);
    expect(x509.basic_constraints).toEqual({ present: true, critical: true, ca: false, path_len: null });
  });

  it('names the object by CN, then SAN, then Command, then id', () => {
    expect(analyseCrafted(craftCertificate()).object.name).toBe('www.example.com');
    const noCn = craftCertificate({
      subject: [{ type: 'O', value: 'Only Org' }],
      extensions: tlsServerExtensions('san.example.com'),
    });
    expect(analyseCrafted(noCn).object.name).toBe('san.example.com');
    const broken = analyseChecked(commandCertificate('!!!!', { IssuedCN: 'from-command.example.com' }));
    expect(broken.object.name).toBe('from-command.example.com');
    const bare = analyseChecked(commandCertificate('!!!!'));
    expect(bare.object.name).toBe(`certificate ${bare.id.slice(0, 16)}`);
  });
});

describe('analyseDer', () => {
  it('makes a file finding without Command data', () => {
    const der = craftCertificate();
    const finding = analyseDerChecked(der, {
      ...TEST_CONTEXT,
      source: { url: null },
      filePath: '/tmp/www.der',
    });
    expect(finding.observation.source).toEqual({ type: 'file', url: null, certificate_id: null });
    expect(finding.observation.file).toEqual({ path: '/tmp/www.der' });
    expect(finding.crypto.x509.keyfactor).toBeNull();
    expect(finding.id).toBe(createHash('sha256').update(der).digest('hex'));
    expect(ruleIds(finding)).not.toContain('KFS-REV-001');
  });
});

describe('AnalysisContext', () => {
  it('replaces the rule set when rules are given', () => {
    const only: readonly Rule[] = DEFAULT_RULES.filter((rule) => rule.id === 'KFS-KEY-001');
    const finding = analyseCrafted(
      craftCertificate({ key: { kind: 'rsa', bits: 1024 } }),
      {},
      { ...TEST_CONTEXT, rules: only },
    );
    expect(ruleIds(finding)).toEqual(['KFS-KEY-001']);
  });

  it('turns a rule that throws into a visible info result instead of failing the certificate', () => {
    const broken: Rule = {
      id: 'KFS-TEST-001',
      scope: 'certificate',
      title: 'Broken rule',
      remediation: 'Fix the rule.',
      severities: ['low'],
      evaluate() {
        throw new Error('boom');
      },
    };
    const finding = analyseCrafted(craftCertificate(), {}, { ...TEST_CONTEXT, rules: [broken] });
    expect(finding.analysis.rules).toHaveLength(1);
    expect(finding.analysis.rules[0]).toMatchObject({
      id: 'KFS-TEST-001',
      severity: 'info',
      title: 'Broken rule',
    });
    expect(finding.analysis.rules[0]?.message).toContain('boom');
    expect(finding.analysis.highest_severity).toBe('info');
  });

  it('rejects contexts no run could use', () => {
    const certificate = commandCertificate(craftCertificate());
    const bad: AnalysisContext[] = [
      { ...TEST_CONTEXT, now: new Date('not a date') },
      { ...TEST_CONTEXT, expiringWithinDays: -1 },
      { ...TEST_CONTEXT, rules: [...DEFAULT_RULES, DEFAULT_RULES[0] as Rule] },
      { ...TEST_CONTEXT, rules: [{ ...(DEFAULT_RULES[0] as Rule), id: 'bad id' }] },
    ];
    for (const context of bad) expect(() => analyseCertificate(certificate, context)).toThrow(InputError);
  });

  it('sees a changed clock on a reused context object', () => {
    const context: AnalysisContext = { ...TEST_CONTEXT, now: new Date('2026-01-01T00:00:00Z') };
    const certificate = commandCertificate(craftCertificate({ notAfter: new Date('2026-03-01T00:00:00Z') }));
    expect(ruleIds(analyseChecked(certificate, context))).not.toContain('KFS-VAL-001');
    context.now = new Date('2026-04-01T00:00:00Z');
    const later = analyseChecked(certificate, context);
    expect(ruleIds(later)).toContain('KFS-VAL-001');
    expect(later['@timestamp']).toBe('2026-04-01T00:00:00.000Z');
  });

  it('takes labels from the scan request form', () => {
    expect(labelsFromRequest([{ team: 'pki' }, { env: 'prod', region: 'eu' }])).toEqual([
      { name: 'team', value: 'pki' },
      { name: 'env', value: 'prod' },
      { name: 'region', value: 'eu' },
    ]);
  });
});

describe('finding.schema.json', () => {
  const validate = createFindingValidator();
  const good = analyseCrafted(craftCertificate());

  it('is draft 2020-12 and lists exactly the parser’s error reasons', () => {
    expect(findingSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const reasons = findingSchema.properties.analysis.properties.parse_error.properties.reason.enum;
    expect([...reasons].sort()).toEqual([...CERTIFICATE_PARSE_ERROR_REASONS].sort());
  });

  it('rejects documents a broken engine would produce', () => {
    const mutate = (change: (copy: Record<string, unknown> & Finding) => void) => {
      const copy = structuredClone(good) as Record<string, unknown> & Finding;
      change(copy);
      return validate(copy);
    };
    expect(validate(good).valid).toBe(true);
    expect(mutate((copy) => delete (copy as Partial<Finding>).crypto).valid).toBe(false);
    expect(mutate((copy) => (copy.extra = 1)).valid).toBe(false);
    expect(mutate((copy) => delete copy.crypto.x509.public_key).valid).toBe(false);
    expect(mutate((copy) => (copy.analysis.highest_severity = 'none')).valid).toBe(false);
    expect(mutate((copy) => (copy.id = 'ABC')).valid).toBe(false);
    expect(mutate((copy) => (copy.analysis.status = 'parse-error')).valid).toBe(false);
    expect(
      mutate((copy) => {
        if (copy.analysis.pqc) copy.analysis.pqc.nist_quantum_security_level = 2;
      }).valid,
    ).toBe(false);
    expect(
      mutate(
        (copy) => (copy.observation.sensor = { ...copy.observation.sensor, ran_by: 3 as unknown as string }),
      ).valid,
    ).toBe(false);
  });

  it('is what assertSchemaValid enforces', () => {
    expect(() => assertSchemaValid({ ...good, version: '0.9.0' })).toThrow(/version/);
  });
});

describe('docs/findings.md', () => {
  const rows = readFileSync(new URL('../../../docs/findings.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| KFS-'));

  it('has a table row for every rule, with every severity it can report', () => {
    for (const rule of DEFAULT_RULES) {
      const row = rows.find((line) => line.startsWith(`| ${rule.id} `));
      expect(row, rule.id).toBeDefined();
      const severityCell = row?.split('|')[2] ?? '';
      expect(
        severityCell.split('/').map((part) => part.trim()),
        rule.id,
      ).toEqual([...rule.severities]);
    }
    expect(rows).toHaveLength(DEFAULT_RULES.length);
  });
});

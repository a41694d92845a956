// commandViewOfFinding: the Command object rebuilt from a stored finding answers every query field the evaluator
// reads exactly as the original Command object does (generated real certificates with every Command field set).
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseCertificate } from '#shared/findings/analyse';
import type { Finding } from '#shared/findings/index';
import type { CommandCertificate } from '#shared/keyfactor/index';
import {
  FIELDS_NOT_IN_FINDING,
  commandViewOfFinding,
  fieldsNotInFinding,
} from '#shared/license/finding-view';
import { BUILT_IN_FIELDS, QueryError, type FieldValue } from '#shared/query/index';
import { generateInventory } from '#shared/simulator/generator/index';
import { TEST_CONTEXT } from '#test/support/findings/harness';

let pairs: Array<{ command: CommandCertificate; finding: Finding }> = [];

beforeAll(() => {
  const inventory = generateInventory({ seed: 11, count: 400, now: new Date('2026-01-01T00:00:00Z') });
  pairs = inventory.map((command) => ({ command, finding: analyseCertificate(command, TEST_CONTEXT) }));
});

/** Multi-valued fields compare as sorted lists: the finding groups SANs by type, Command keeps DER order. */
function normalise(value: FieldValue | FieldValue[]): unknown {
  if (Array.isArray(value)) return value.map((v) => v ?? null).sort();
  return value ?? null;
}

describe('commandViewOfFinding', () => {
  const answerable = BUILT_IN_FIELDS.filter(
    (f) => f.read !== undefined && !FIELDS_NOT_IN_FINDING.includes(f.name),
  );

  it('covers every field the evaluator can read except the ones it declares missing', () => {
    expect(answerable.length).toBeGreaterThan(30);
    expect(FIELDS_NOT_IN_FINDING).toEqual(['ArchivedKey', 'NetBIOSPrincipal', 'EKUName']);
  });

  it.each(
    BUILT_IN_FIELDS.filter((f) => f.read !== undefined && !FIELDS_NOT_IN_FINDING.includes(f.name)).map(
      (f) => [f.name, f] as const,
    ),
  )('%s reads the same from the view as from the Command object', (_name, field) => {
    let differing = 0;
    const examples: string[] = [];
    for (const { command, finding } of pairs) {
      const view = commandViewOfFinding(finding);
      expect(view).not.toBeNull();
      const expected = normalise(field.read!(command));
      const actual = normalise(field.read!(view!));
      if (JSON.stringify(expected) !== JSON.stringify(actual)) {
        differing += 1;
        if (examples.length < 3)
          examples.push(`${command.Id}: ${JSON.stringify(expected)} vs ${JSON.stringify(actual)}`);
      }
    }
    expect(examples, `${differing} certificates differ`).toEqual([]);
  });

  it('the inventory exercises the fields that matter (requests, SANs, OUs, curves, stores, metadata)', () => {
    const commands = pairs.map((p) => p.command);
    expect(commands.some((c) => (c.CertRequestId ?? 0) > 0)).toBe(true);
    expect(commands.some((c) => c.CertRequestId === null)).toBe(true);
    expect(commands.some((c) => (c.SubjectAltNameElements ?? []).length > 1)).toBe(true);
    expect(commands.some((c) => c.IssuedOU)).toBe(true);
    expect(commands.some((c) => c.Curve)).toBe(true);
    expect(commands.some((c) => (c.Locations ?? []).length > 0)).toBe(true);
    expect(commands.some((c) => (c.SSLLocations ?? []).length > 0)).toBe(true);
    expect(commands.some((c) => Object.keys(c.Metadata ?? {}).length > 0)).toBe(true);
    expect(commands.some((c) => c.RevocationEffDate)).toBe(true);
  });

  it('records CertRequestId in the finding document', () => {
    for (const { command, finding } of pairs) {
      expect(finding.crypto.x509.keyfactor?.cert_request_id).toBe(command.CertRequestId ?? null);
    }
  });

  it('reads a document stored before cert_request_id existed as "no request"', () => {
    const { finding } = pairs.find((p) => (p.command.CertRequestId ?? 0) > 0)!;
    const { cert_request_id: _dropped, ...older } = finding.crypto.x509.keyfactor!;
    const oldDocument = {
      ...finding,
      crypto: { x509: { ...finding.crypto.x509, keyfactor: older } },
    } as Finding;
    expect(commandViewOfFinding(oldDocument)?.CertRequestId).toBeNull();
  });

  it('is null for a finding not read from Command', () => {
    const { finding } = pairs[0]!;
    expect(
      commandViewOfFinding({ ...finding, crypto: { x509: { ...finding.crypto.x509, keyfactor: null } } }),
    ).toBeNull();
  });
});

describe('fieldsNotInFinding', () => {
  it('names the missing fields in Command spelling, whatever case the query uses', () => {
    expect(
      fieldsNotInFinding(
        'archivedkey -eq true OR (ekuname -eq "Server Authentication" AND IssuedCN -eq "x")',
      ),
    ).toEqual(['ArchivedKey', 'EKUName']);
    expect(fieldsNotInFinding('IssuedCN -eq "x" AND Team -eq "A"')).toEqual([]);
    expect(fieldsNotInFinding('')).toEqual([]);
  });

  it('throws QueryError for text that does not parse', () => {
    expect(() => fieldsNotInFinding('IssuedCN -eq')).toThrow(QueryError);
  });
});

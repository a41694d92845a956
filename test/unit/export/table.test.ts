// The terminal view: summary counts that add up, key labels shared with the CBOM, and no terminal escapes from files.
import { describe, expect, it } from 'vitest';
import { analyseCertificate, analyseDer } from '#shared/findings/index';
import type { AnalysisContext } from '#shared/findings/index';
import {
  formatFindingsSummary,
  formatFindingsTable,
  keyLabel,
  summarizeFindings,
  terminalSafe,
} from '#shared/export/index';
import { generateInventory } from '#shared/simulator/generator/index';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const context: AnalysisContext = {
  now: NOW,
  sensor: { name: 'kfsensor', version: '0.1.0', ranBy: 'test' },
  source: { url: null },
  filePath: 'certs/bundle.pem',
};

const findings = [
  ...generateInventory({ seed: 9, count: 120, now: NOW }).map((c) => analyseCertificate(c, context)),
  analyseDer(Buffer.from('junk'), context),
];

describe('findings summary', () => {
  it('counts every finding once by severity, keys only for analysed ones, and the vulnerable share', () => {
    const summary = summarizeFindings(findings);
    expect(summary.total).toBe(findings.length);
    expect(summary.parseErrors).toBe(1);
    expect(Object.values(summary.bySeverity).reduce((a, b) => a + b, 0)).toBe(findings.length);
    expect(summary.byKeyAlgorithm.reduce((sum, [, count]) => sum + count, 0)).toBe(summary.analysed);
    const vulnerable = findings.filter((f) => f.analysis.pqc?.readiness === 'vulnerable').length;
    expect(summary.quantumVulnerable).toBe(vulnerable);
    const counts = summary.byKeyAlgorithm.map(([, count]) => count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const text = formatFindingsSummary(summary);
    expect(text).toContain(`Certificates: ${findings.length} (${summary.analysed} analysed, 1 unreadable)`);
    expect(text).toMatch(/Quantum-vulnerable keys: \d+ of \d+ analysed \(\d+\.\d%\)/);
  });

  it('labels keys the way the CBOM names their algorithms', () => {
    const rsa = findings.find((f) => f.crypto.x509.public_key?.algorithm === 'RSA');
    expect(keyLabel(rsa ?? findings[0]!)).toBe(`RSA-${rsa?.crypto.x509.public_key?.key_size_bits}`);
  });
});

describe('findings table', () => {
  it('has a header and one line per finding, the unreadable one marked', () => {
    const lines = formatFindingsTable(findings).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FILE\s+CN\s+KEY\s+SIGNATURE\s+NOT AFTER\s+SEVERITY\s+RULES$/);
    expect(lines).toHaveLength(findings.length + 1);
    expect(lines.at(-1)).toContain('(unreadable: ');
    expect(lines.at(-1)).toContain('KFS-PARSE-001');
  });

  it('escapes control characters that would rewrite the terminal', () => {
    expect(terminalSafe('evil\u001b[2Jname\r\n')).toBe('evil\\x1b[2Jname\\x0d\\x0a');
    expect(terminalSafe('invoice\u202egpj.exe')).toBe('invoice\\u202egpj.exe');
    expect(terminalSafe('Café Crème 😀')).toBe('Café Crème 😀');
    const finding = structuredClone(findings[0]!);
    finding.crypto.x509.common_name = 'a\u001b]0;pwned\u0007b';
    expect(formatFindingsTable([finding])).not.toContain('\u001b');
  });
});

// The JSONL exporter: exactly one schema-valid finding per line, whatever the certificates' text holds.
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseCertificate, analyseDer, createFindingValidator } from '#shared/findings/index';
import type { AnalysisContext, Finding } from '#shared/findings/index';
import { findingsToJsonl, writeFindingsJsonl } from '#shared/export/index';
import { generateInventory } from '#shared/simulator/generator/index';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const context: AnalysisContext = {
  now: NOW,
  sensor: { name: 'kfsensor', version: '0.1.0', ranBy: 'test' },
  source: { url: null },
};

let findings: Finding[];

beforeAll(() => {
  findings = generateInventory({ seed: 5, count: 150, now: NOW }).map((c) => analyseCertificate(c, context));
  findings.push(analyseDer(Buffer.from('garbage'), { ...context, filePath: 'junk.bin' }));
});

describe('JSONL', () => {
  it('writes one line per finding, each a schema-valid finding equal to the original', () => {
    const jsonl = findingsToJsonl(findings);
    expect(jsonl.endsWith('\n')).toBe(true);
    const lines = jsonl.slice(0, -1).split('\n');
    expect(lines).toHaveLength(findings.length);
    const validate = createFindingValidator();
    lines.forEach((line, index) => {
      const parsed: unknown = JSON.parse(line);
      expect(validate(parsed).errors).toEqual([]);
      expect(parsed).toEqual(findings[index]);
    });
  });

  it('keeps a finding on one line when its text holds line breaks', () => {
    const finding = structuredClone(findings[0]);
    if (finding === undefined) throw new Error('no finding');
    finding.object.name = 'line one\nline two\r\nline three\u2028four';
    const jsonl = findingsToJsonl([finding, finding]);
    expect(jsonl.split('\n')).toHaveLength(3);
    const firstLine = jsonl.split('\n')[0] ?? '';
    expect((JSON.parse(firstLine) as Finding).object.name).toBe(finding.object.name);
  });

  it('streams the same text as the string helper, from sync and async sources', async () => {
    const expected = findingsToJsonl(findings);
    let text = '';
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        setImmediate(callback);
      },
    });
    async function* source(): AsyncGenerator<Finding> {
      for (const finding of findings) {
        await Promise.resolve();
        yield finding;
      }
    }
    expect(await writeFindingsJsonl(source(), sink)).toBe(findings.length);
    expect(text).toBe(expected);
    text = '';
    expect(await writeFindingsJsonl(findings, sink)).toBe(findings.length);
    expect(text).toBe(expected);
  });

  it('writes nothing for no findings', () => {
    expect(findingsToJsonl([])).toBe('');
  });
});

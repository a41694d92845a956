// YAML handling: parser errors with positions, anchors and merge keys, duplicates, and hostile input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, MAX_CONFIG_BYTES, MAX_DEPTH } from '#shared/config/index';
import { InputError } from '#shared/errors';
import { configError, FILE, issueAt, load, OAUTH, withKeyfactor } from './helpers';

describe('YAML syntax errors', () => {
  it('reports tab indentation with the line and column and says to use spaces', () => {
    const error = configError('scan_config:\n  plugins: [keyfactor]\n\tconfig: {}\n');
    expect(error).toBeInstanceOf(InputError);
    expect(error.issues[0]).toMatchObject({ line: 3, column: 1 });
    expect(error.issues[0]?.message).toMatch(/Tabs are not allowed as indentation; indent with spaces/);
    expect(error.message).toContain(`${FILE}:3:1`);
  });

  it('reports an unclosed quote', () => {
    const error = configError('scan_config:\n  plugins: ["keyfactor]\n  config: {}\n');
    expect(error.issues.some((issue) => /Missing closing "quote/.test(issue.message))).toBe(true);
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('never quotes the offending source text, which may hold a secret', () => {
    const error = configError('- a\npassword: hunter2-secret\n');
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.message).not.toContain('hunter2-secret');
  });

  it('never quotes a block scalar header, nor a token it did not expect', () => {
    const error = configError('scan_config:\n  token: |2-s3cr3t-header\n    x\n');
    expect(error.message).toMatch(/Block scalar header includes extra characters/);
    expect(error.message).not.toContain('s3cr3t');
  });

  it('lists at most 25 issues and counts the rest', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `unknown_${i}: 1`).join('\n');
    const error = configError(`${keys}\nscan_config: {}\n`);
    expect(error.issues.length).toBeGreaterThan(40);
    expect(error.message.split('\n')).toHaveLength(1 + 25 + 1);
    expect(error.message).toMatch(/… and \d+ more$/);
  });

  it('reads CRLF line endings and a byte-order mark', () => {
    const text =
      '\ufeffscan_config:\r\n  plugins: [keyfactor]\r\n  config:\r\n    keyfactor:\r\n      plugin_config:\r\n' +
      '        url: https://h.example.com/KeyfactorAPI\r\n        username: u\r\n        password: p\r\n';
    expect(load(text).keyfactor.auth).toEqual({ method: 'basic', username: 'u', password: 'p' });
  });

  it('rejects several documents in one file', () => {
    const error = configError('a: 1\n---\nb: 2\n');
    expect(error.issues[0]?.message).toMatch(/2 YAML documents/);
    expect(error.issues[0]?.line).toBe(2);
  });

  it('rejects unknown tags and binary values', () => {
    expect(configError(withKeyfactor(`${OAUTH}\n        audience: !vault x`)).message).toMatch(
      /Unresolved tag: !vault/,
    );
    const binary = configError(withKeyfactor(`${OAUTH}\n        audience: !!binary aGVsbG8=`));
    expect(binary.issues[0]?.message).toMatch(/unsupported value \(tag tag:yaml.org,2002:binary\)/);
    expect(binary.issues[0]?.path).toBe('scan_config.config.keyfactor.plugin_config.audience');
  });

  it('says an empty file needs scan_config', () => {
    expect(configError('').issues[0]?.message).toMatch(/empty; it needs a scan_config block/);
    expect(configError('# only a comment\n').issues[0]?.message).toMatch(/empty/);
    expect(configError('- a\n- b\n').issues[0]?.message).toMatch(/top level must be a map .*found a list/);
  });
});

describe('duplicate keys', () => {
  it('names the key and both lines', () => {
    const error = configError(withKeyfactor(`${OAUTH}\n        client_id: other`));
    const issue = issueAt(error, 'scan_config.config.keyfactor.plugin_config.client_id');
    expect(issue.line).toBe(12);
    expect(issue.message).toBe('duplicate key "client_id" (first given on line 9); keep only one');
  });

  it('treats a key given next to a merge as an override, not a duplicate', () => {
    const config = load(`x-kf: &kf
  url: https://a.example.com/KeyfactorAPI
  username: u
  password: p
${withKeyfactor('        <<: *kf\n        url: https://b.example.com/KeyfactorAPI')}`);
    expect(config.keyfactor.url).toBe('https://b.example.com/KeyfactorAPI');
    expect(config.keyfactor.auth).toEqual({ method: 'basic', username: 'u', password: 'p' });
  });
});

describe('anchors, aliases and merge keys', () => {
  it('merges a list of maps with earlier ones winning, and the map itself over both', () => {
    const config = load(`x-a: &a { page_size: 10, concurrency: 2 }
x-b: &b { page_size: 20, concurrency: 3, auto_resolution_interval: 7 }
${withKeyfactor(`${OAUTH}\n        <<: [*a, *b]\n        concurrency: 9`)}`);
    expect(config.keyfactor).toMatchObject({ pageSize: 10, concurrency: 9, autoResolutionInterval: 7 });
  });

  it('accepts a plain alias as a whole value', () => {
    const config = load(`x-formats: &formats [csv, cbom]
scan_config:
  plugins: [keyfactor, local_export]
  config:
    keyfactor:
      plugin_config:
${OAUTH}
    local_export:
      plugin_config:
        formats: *formats
`);
    expect(config.localExport?.formats).toEqual(['csv', 'cbom']);
  });

  it('reports a merge of an undefined anchor, naming the anchor and its line', () => {
    const error = configError(withKeyfactor(`${OAUTH}\n        <<: *local_export_config`));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      path: 'scan_config.config.keyfactor.plugin_config',
      line: 12,
      column: 13,
    });
    expect(error.issues[0]?.message).toMatch(
      /^\*local_export_config refers to anchor &local_export_config, which is not defined before line 12/,
    );
  });

  it('requires an anchor to be defined before its alias', () => {
    const error = configError(`${withKeyfactor('        <<: *later')}x-later: &later { url: https://h }\n`);
    expect(error.issues[0]?.message).toMatch(/&later, which is not defined before line 7/);
  });

  it('rejects a merge of something that is not a map', () => {
    const error = configError(`x-list: &list [1, 2]\n${withKeyfactor(`${OAUTH}\n        <<: *list`)}`);
    expect(error.issues[0]?.message).toMatch(/<<: \*list must refer to a map/);
  });

  it('rejects an anchor that contains its own alias', () => {
    const error = configError('x-loop: &loop\n  again: *loop\nscan_config: {}\n');
    expect(error.issues[0]?.message).toMatch(/a cycle/);
  });

  it('lets a quoted "<<" be an ordinary (here unknown) key', () => {
    const error = configError(`x-a: &a { page_size: 10 }\n${withKeyfactor(`${OAUTH}\n        "<<": *a`)}`);
    expect(issueAt(error, 'scan_config.config.keyfactor.plugin_config["<<"]').message).toMatch(
      /unknown key "<<"/,
    );
  });
});

describe('hostile input', () => {
  it('stops an alias bomb (billion laughs) quickly with a clear error', () => {
    const levels = ['x-l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 9; i++) {
      const refs = Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ');
      levels.push(`x-l${i}: &l${i} [${refs}]`);
    }
    const started = Date.now();
    const error = configError(`${levels.join('\n')}\nscan_config: {}\n`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.issues[0]?.message).toMatch(/alias bomb/);
  });

  it('rejects nesting deeper than the limit without overflowing the stack', () => {
    const depth = 5000;
    const error = configError(`x-deep: ${'['.repeat(depth)}${']'.repeat(depth)}\nscan_config: {}\n`);
    expect(
      error.issues.some((issue) => /nesting is (too deep|deeper)/.test(issue.message)),
      error.message,
    ).toBe(true);
    expect(configError(`x-deep: ${'['.repeat(100)}${']'.repeat(100)}\nscan_config: {}\n`).message).toContain(
      `deeper than ${MAX_DEPTH} levels`,
    );
    const block = Array.from({ length: 200 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n');
    expect(configError(`x-deep:\n${block.replace(/^/gm, '  ')} 1\nscan_config: {}\n`).message).toMatch(
      /deeper than/,
    );
  });

  it('rejects a 10 MB file before reading it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kfsensor-config-'));
    const file = path.join(dir, 'huge.yml');
    writeFileSync(file, `x-pad: "${'a'.repeat(10 * 1024 * 1024)}"\n`);
    let error: unknown;
    try {
      loadConfig(file, { env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(new RegExp(`at most ${MAX_CONFIG_BYTES} bytes`));
    expect(() => load(`x: "${'a'.repeat(MAX_CONFIG_BYTES)}"`)).toThrow(/at most/);
  });

  it('treats __proto__ as an ordinary unknown key', () => {
    const error = configError(`${withKeyfactor(OAUTH)}__proto__: { polluted: true }\n`);
    expect(issueAt(error, '__proto__').message).toMatch(/unknown top-level key/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports a missing or unreadable config file by path', () => {
    expect(() => loadConfig('/nonexistent/kfsensor.yml', { env: {} })).toThrow(
      /\/nonexistent\/kfsensor.yml: 1 problem in the config\n.*cannot read the config file \(ENOENT\)/,
    );
    expect(() => loadConfig(tmpdir(), { env: {} })).toThrow(/cannot read the config file/);
  });
});

// ${env:NAME} expansion: after parsing, on string values only, so a variable can never add YAML structure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpolateString } from '#shared/config/index';
import { configError, ENV, issueAt, load, OAUTH, withKeyfactor } from './helpers';

const EXPORT = (body: string) => `scan_config:
  plugins: [keyfactor, export]
  config:
    keyfactor:
      plugin_config:
${OAUTH}
    export:
      plugin_config:
        sensor_name: Remote
${body}
`;

/** Strings made of the characters YAML gives meaning to, plus env syntax, so an injection would be likely. */
const yamlish = fc.string({
  minLength: 1,
  maxLength: 100,
  unit: fc.constantFrom(
    ...[':', ' ', '\n', '\r', '\t', '"', "'", '#', '&', '*', '!', '|', '>', '%', '@', '`', ',', '?', '-'],
    ...[
      '{',
      '}',
      '[',
      ']',
      '$',
      '${env:USER}',
      '$${',
      '<<',
      '---',
      '...',
      'token',
      'a',
      '\u2028',
      '\u{1F600}',
      '\\',
    ],
  ),
});

const EXPORT_OK = `        url: https://ingest.example.com/v3
        token: t`;

describe('interpolateString', () => {
  it('expands, defaults and escapes', () => {
    const env = { A: 'alpha', EMPTY: '' };
    expect(interpolateString('${env:A}', env)).toEqual({ value: 'alpha', problems: [] });
    expect(interpolateString('x-${env:A}-${env:A}-y', env).value).toBe('x-alpha-alpha-y');
    expect(interpolateString('${env:MISSING:-fallback}', env).value).toBe('fallback');
    expect(interpolateString('${env:MISSING:-}', env).value).toBe('');
    expect(interpolateString('${env:A:-fallback}', env).value).toBe('alpha');
    // As in the shell, :- also replaces an empty value; without a default an empty value stays empty.
    expect(interpolateString('${env:EMPTY:-fallback}', env).value).toBe('fallback');
    expect(interpolateString('${env:EMPTY}', env)).toEqual({ value: '', problems: [] });
    expect(interpolateString('cost: $${env:A} and $5', env).value).toBe('cost: ${env:A} and $5');
    expect(interpolateString('${env:A:-a:-b}', {}).value).toBe('a:-b');
  });

  it('names what is wrong', () => {
    expect(interpolateString('${env:NOPE}', {}).problems).toEqual([
      'environment variable NOPE is not set; set it, or write ${env:NOPE:-default}',
    ]);
    expect(interpolateString('${HOME}', {}).problems[0]).toMatch(/\$\{HOME\} is not a supported reference/);
    expect(interpolateString('${env:1BAD}', {}).problems[0]).toMatch(
      /"1BAD" is not a valid environment variable name/,
    );
    expect(interpolateString('${env:A', { A: 'x' }).problems[0]).toMatch(/not closed/);
  });

  it('leaves any substituted value verbatim, whatever it contains', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.string({ maxLength: 20 }),
        (value, prefix) => {
          const safePrefix = prefix.replaceAll('$', '');
          const out = interpolateString(`${safePrefix}\${env:X}`, { X: value });
          expect(out.problems).toEqual([]);
          expect(out.value).toBe(safePrefix + value);
        },
      ),
    );
  });
});

describe('interpolation in a config file', () => {
  it('reports an unset variable with its name, key path and line, once', () => {
    const error = configError(EXPORT(`        ran_by: "\${env:KFS_RUNNER}"\n${EXPORT_OK}`), { env: {} });
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      path: 'scan_config.config.export.plugin_config.ran_by',
      line: 14,
    });
    expect(error.issues[0]?.message).toMatch(/environment variable KFS_RUNNER is not set/);
    expect(error.message).toMatch(
      /test\.yml:14:17 scan_config\.config\.export\.plugin_config\.ran_by: environment variable KFS_RUNNER/,
    );
  });

  it('reports every unset variable at once', () => {
    const error = configError(EXPORT('        url: ${env:U1}\n        token: ${env:T1}'), { env: {} });
    expect(error.issues.map((issue) => issue.message.match(/variable (\w+)/)?.[1])).toEqual(['U1', 'T1']);
  });

  it('uses ${env:NAME:-default} when the variable is unset', () => {
    const config = load(EXPORT(`        ran_by: "\${env:KFS_RUNNER:-scheduler}"\n${EXPORT_OK}`), { env: {} });
    expect(config.export?.ranBy).toBe('scheduler');
  });

  it('reports a variable used inside an anchor at the anchor line, under the path it was merged into', () => {
    const text = `x-export: &exp\n  token: \${env:NO_TOKEN}\n${EXPORT('        <<: *exp\n        url: https://ingest.example.com/v3')}`;
    const issue = issueAt(configError(text, { env: {} }), 'scan_config.config.export.plugin_config.token');
    expect(issue.line).toBe(2);
  });

  it('does not expand plugins that do not run, nor x- keys', () => {
    const text = `x-unused: \${env:NOT_SET_1}\n${withKeyfactor(OAUTH, '    export:\n      plugin_config:\n        token: ${env:NOT_SET_2}\n')}`;
    const config = load(text, { env: {} });
    expect(config.plugins).toEqual(['keyfactor']);
  });

  it('fills numbers and booleans from variables', () => {
    const config = load(
      withKeyfactor(
        `${OAUTH}\n        page_size: \${env:PAGE}\n        insecure_skip_tls_verify: \${env:SKIP:-false}`,
      ),
      { env: { PAGE: '250' } },
    );
    expect(config.keyfactor.pageSize).toBe(250);
    expect(config.keyfactor.insecureSkipTlsVerify).toBe(false);
  });

  it('never parses a substituted value as YAML: any string comes out verbatim, adding no keys', () => {
    fc.assert(
      fc.property(
        // ran_by is at most 256 characters; longer values are rightly refused.
        fc
          .oneof(yamlish, fc.string({ minLength: 1, maxLength: 100, unit: 'grapheme' }))
          .filter((v) => v.length <= 256),
        (value) => {
          const config = load(EXPORT(`        ran_by: "\${env:X}"\n${EXPORT_OK}`), { env: { X: value } });
          expect(config.export?.ranBy).toBe(value);
          expect(config.export?.token).toBe('t');
          expect(config.export?.labels).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps YAML-looking values as text', () => {
    const injected = 'x\n        token: stolen\nlabels: [{a: b}]\n*alias &anchor ${env:USER} "';
    const config = load(EXPORT(`        ran_by: \${env:X}\n${EXPORT_OK}`), { env: { ...ENV, X: injected } });
    expect(config.export?.ranBy).toBe(injected);
    expect(config.export?.token).toBe('t');
  });
});

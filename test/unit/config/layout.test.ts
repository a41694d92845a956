// scan_config layout: which plugins run, their blocks, x- keys, unknown names with suggestions, many issues at once.
import { describe, expect, it } from 'vitest';
import { configError, issueAt, load, OAUTH } from './helpers';

const KEYFACTOR = `    keyfactor:
      name: keyfactor
      plugin_config:
${OAUTH}`;

const EXPORT = `    export:
      name: export
      plugin_config:
        sensor_name: Remote
        url: https://ingest.example.com/v3
        token: t`;

describe('scan_config layout', () => {
  it('runs the listed plugins in order and ignores x- keys at the top', () => {
    const config = load(`x-anything: { not: [checked] }
x-more: &m 1
scan_config:
  plugins: [keyfactor, export]
  config:
${KEYFACTOR}
${EXPORT}
`);
    expect(config.plugins).toEqual(['keyfactor', 'export']);
    expect(config.export?.sensorName).toBe('Remote');
    expect(config.localExport).toBeNull();
    expect(config.warnings).toEqual([]);
  });

  it('rejects an unknown plugin with the closest name', () => {
    const error = configError(
      `scan_config:\n  plugins: [keyfactor, local-export]\n  config:\n${KEYFACTOR}\n`,
    );
    const issue = issueAt(error, 'scan_config.plugins[1]');
    expect(issue).toMatchObject({ line: 2, column: 24 });
    expect(issue.message).toBe(
      'unknown plugin "local-export"; did you mean "local_export"? (plugins: keyfactor, export, local_export)',
    );
  });

  it('rejects an unknown plugin block under config', () => {
    const error = configError(
      `scan_config:\n  plugins: [keyfactor]\n  config:\n${KEYFACTOR}\n    exprot:\n      plugin_config: {}\n`,
    );
    expect(issueAt(error, 'scan_config.config.exprot')).toMatchObject({
      line: 12,
      message: expect.stringMatching(/^unknown plugin "exprot"; did you mean "export"\?/) as unknown,
    });
  });

  it('warns once about a plugin that is configured but not listed, and does not check it', () => {
    const config = load(`scan_config:
  plugins: [keyfactor]
  config:
${KEYFACTOR}
    export:
      plugin_config:
        sensor_type: not checked
        token: \${env:UNSET_BECAUSE_NOT_RUN}
`);
    expect(config.export).toBeNull();
    expect(config.warnings).toHaveLength(2);
    expect(config.warnings[0]).toMatchObject({ path: 'scan_config.config.export', line: 12 });
    expect(config.warnings[0]?.message).toMatch(
      /plugin "export" is configured but not listed in scan_config.plugins/,
    );
    expect(config.warnings[1]?.message).toMatch(/neither export nor local_export is listed/);
  });

  it('rejects a listed plugin without a block', () => {
    const error = configError(`scan_config:\n  plugins: [keyfactor, export]\n  config:\n${KEYFACTOR}\n`);
    expect(issueAt(error, 'scan_config.plugins[1]').message).toBe(
      'plugin "export" is listed but has no scan_config.config.export block; add one with name and plugin_config',
    );
  });

  it('requires keyfactor among the plugins, once each', () => {
    expect(configError(`scan_config:\n  plugins: [export]\n  config:\n${EXPORT}\n`).message).toMatch(
      /scan_config.plugins: must include keyfactor/,
    );
    expect(
      configError(`scan_config:\n  plugins: [keyfactor, keyfactor]\n  config:\n${KEYFACTOR}\n`).message,
    ).toMatch(/plugins\[1\]: plugin "keyfactor" is listed twice/);
    expect(configError(`scan_config:\n  plugins: []\n  config:\n${KEYFACTOR}\n`).message).toMatch(
      /at least keyfactor/,
    );
    expect(configError(`scan_config:\n  plugins: keyfactor\n`).message).toMatch(
      /must be a list of plugin names/,
    );
  });

  it('rejects unknown keys at every level with a suggestion', () => {
    const error = configError(`scan_conifg: {}
scan_config:
  plugin: [keyfactor]
  plugins: [keyfactor]
  config:
    keyfactor:
      nmae: keyfactor
      plugin_config:
${OAUTH}
        page_sise: 10
        kerberos_upn: x
`);
    expect(issueAt(error, 'scan_conifg').message).toMatch(
      /unknown top-level key "scan_conifg"; did you mean "scan_config"\?/,
    );
    expect(issueAt(error, 'scan_config.plugin').message).toMatch(/did you mean "plugins"\?/);
    expect(issueAt(error, 'scan_config.config.keyfactor.nmae').message).toMatch(/did you mean "name"\?/);
    expect(issueAt(error, 'scan_config.config.keyfactor.plugin_config.page_sise')).toMatchObject({
      line: 14,
      column: 9,
      message: 'unknown key "page_sise"; did you mean "page_size"?',
    });
    expect(issueAt(error, 'scan_config.config.keyfactor.plugin_config.kerberos_upn').message).toBe(
      'unknown key "kerberos_upn"; did you mean "kerberos"?',
    );
    expect(error.issues).toHaveLength(5);
    // Listed in file order.
    expect(error.issues.map((issue) => issue.line)).toEqual([1, 3, 7, 14, 15]);
  });

  it('checks that name matches the block it is in, and that plugin_config is a map', () => {
    const error = configError(`scan_config:
  plugins: [keyfactor, local_export]
  config:
    keyfactor:
      name: export
      plugin_config:
${OAUTH}
    local_export:
      plugin_config: [jsonl]
`);
    expect(issueAt(error, 'scan_config.config.keyfactor.name').message).toBe(
      'must be "keyfactor", the plugin this block configures',
    );
    expect(issueAt(error, 'scan_config.config.local_export.plugin_config').message).toMatch(
      /must be a map .*found a list/,
    );
  });

  it('accepts an empty plugin_config for local_export (all defaults)', () => {
    const config = load(
      `scan_config:\n  plugins: [keyfactor, local_export]\n  config:\n${KEYFACTOR}\n    local_export:\n      plugin_config:\n`,
      { cwd: '/data/run' },
    );
    expect(config.localExport).toEqual({
      outputDir: '/data/run/out',
      formats: ['jsonl', 'csv', 'cbom'],
      filePrefix: 'keyfactor-command',
    });
    expect(config.sensor.ranBy).toBe('alice');
  });

  it('requires scan_config to be a map', () => {
    expect(configError('x-a: 1\n').message).toMatch(/scan_config: is required/);
    expect(configError('scan_config: [a]\n').message).toMatch(/scan_config: must be a map/);
  });
});

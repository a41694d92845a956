// The sample config and the user guide's OAuth2 example load unchanged and mean what the guide says.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#shared/config/index';
import { ENV } from './helpers';

const SAMPLE = 'config/sample-configs/keyfactor.yml';
const SEED_FIXTURE = 'test/fixtures/config/seed-oauth2.yml';

/** The guide's "Remote Scan Execution Configuration Examples: OAuth 2 authentication", as printed (indentation lost). */
const GUIDE_EXCERPT = `scan_config:
plugins:
- keyfactor
- export
config:
keyfactor:
name: keyfactor
plugin_config:
url: "https://command.example.com/KeyfactorAPI"
token_url: "https://login.microsoftonline.com/xxxxxxxxxxx/oauth2/v2.0/token"
client_id: "xxxxxxxxxxxxxx"
client_secret: "xxxxxxxxxxxx"
scope: "api://xxxxxxxxxx/.default"
local_export:
name: local_export
plugin_config:
<<: *local_export_config
export:
name: export
plugin_config:
<<: *export_config
sensor_name: "Remote Keyfactor Scan"
sensor_type: "Keyfactor Command" # Do not edit this value.
ran_by: "\${env:USER}"
url: "\${env:INGESTION_URL}"
token: "\${env:SENSOR_TOKEN}"`;

/** The file's lines from `scan_config:` on, without indentation, as many as the excerpt has. */
function excerptOf(file: string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.indexOf('scan_config:');
  return lines
    .slice(start, start + GUIDE_EXCERPT.split('\n').length)
    .map((line) => line.trim())
    .join('\n');
}

describe('config/sample-configs/keyfactor.yml', () => {
  it('holds the guide excerpt exactly, re-indented', () => {
    expect(excerptOf(SAMPLE)).toBe(GUIDE_EXCERPT);
    expect(excerptOf(SEED_FIXTURE)).toBe(GUIDE_EXCERPT);
  });

  it('loads unchanged with USER, INGESTION_URL and SENSOR_TOKEN set', () => {
    const config = loadConfig(SAMPLE, { env: ENV, cwd: '/srv/kfsensor' });
    expect(config.plugins).toEqual(['keyfactor', 'export']);
    expect(config.keyfactor).toEqual({
      url: 'https://command.example.com/KeyfactorAPI',
      auth: {
        method: 'oauth2',
        tokenUrl: 'https://login.microsoftonline.com/xxxxxxxxxxx/oauth2/v2.0/token',
        clientId: 'xxxxxxxxxxxxxx',
        clientSecret: 'xxxxxxxxxxxx',
        scope: 'api://xxxxxxxxxx/.default',
        audience: null,
      },
      queryFilter: null,
      caCert: null,
      insecureSkipTlsVerify: false,
      pageSize: 1000,
      concurrency: 4,
      autoResolutionInterval: 5,
    });
    expect(config.export).toEqual({
      sensorName: 'Remote Keyfactor Scan',
      sensorType: 'Keyfactor Command',
      ranBy: 'alice',
      url: 'https://ingest.example.com/v3/findings',
      token: 'sensor-token-value',
      labels: [{ name: 'scan', value: 'remote' }],
      caCert: null,
    });
    // local_export is configured (through the anchor) but not listed: it does not run, and one warning says so.
    expect(config.localExport).toBeNull();
    expect(config.warnings).toHaveLength(1);
    const line = readFileSync(SAMPLE, 'utf8').split('\n').indexOf('    local_export:') + 1;
    expect(config.warnings[0]).toMatchObject({ path: 'scan_config.config.local_export', line, column: 5 });
    expect(config.warnings[0]?.message).toMatch(/"local_export" is configured but not listed/);
    expect(config.sensor).toEqual({
      name: 'Remote Keyfactor Scan',
      ranBy: 'alice',
      labels: [{ name: 'scan', value: 'remote' }],
    });
  });

  it('runs local_export with the anchor settings once it is listed', () => {
    const text = readFileSync(SAMPLE, 'utf8').replace('    - export\n', '    - export\n    - local_export\n');
    const config = loadConfig({ text, fileName: SAMPLE }, { env: ENV, cwd: '/srv/kfsensor' });
    expect(config.plugins).toEqual(['keyfactor', 'export', 'local_export']);
    expect(config.localExport).toEqual({
      outputDir: path.resolve('/srv/kfsensor', 'out'),
      formats: ['jsonl', 'csv', 'cbom'],
      filePrefix: 'keyfactor-command',
    });
    expect(config.warnings).toEqual([]);
  });

  it('names every missing variable when the environment is empty', () => {
    let error: unknown;
    try {
      loadConfig(SAMPLE, { env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const messages = (error as ConfigError).issues.map((issue) => `${issue.line}: ${issue.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^\d+: environment variable USER is not set/),
      expect.stringMatching(/^\d+: environment variable INGESTION_URL is not set/),
      expect.stringMatching(/^\d+: environment variable SENSOR_TOKEN is not set/),
    ]);
  });
});

describe('the guide excerpt below anchor definitions (test/fixtures/config/seed-oauth2.yml)', () => {
  it('loads', () => {
    const config = loadConfig(SEED_FIXTURE, { env: ENV });
    expect(config.plugins).toEqual(['keyfactor', 'export']);
    expect(config.keyfactor.auth.method).toBe('oauth2');
    expect(config.export?.sensorType).toBe('Keyfactor Command');
    expect(config.export?.token).toBe('sensor-token-value');
    expect(config.warnings.map((warning) => warning.path)).toEqual(['scan_config.config.local_export']);
  });

  it('fails without the anchors, naming the first undefined one', () => {
    const text = readFileSync(SEED_FIXTURE, 'utf8').replace(/^x-.*\n( {2}.*\n)*/gm, '');
    expect(() => loadConfig({ text, fileName: 'excerpt.yml' }, { env: ENV })).toThrow(
      /excerpt\.yml:\d+:\d+ scan_config\.config\.local_export\.plugin_config: \*local_export_config refers to anchor &local_export_config, which is not defined/,
    );
  });
});

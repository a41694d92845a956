// Shared helpers: load a config from text, and catch the ConfigError a bad one must raise.
import { expect } from 'vitest';
import { ConfigError, loadConfig, type LoadConfigOptions, type RemoteScanConfig } from '#shared/config/index';

export const FILE = 'test.yml';

export const ENV = {
  USER: 'alice',
  INGESTION_URL: 'https://ingest.example.com/v3/findings',
  SENSOR_TOKEN: 'sensor-token-value',
};

export function load(text: string, options: LoadConfigOptions = {}): RemoteScanConfig {
  return loadConfig({ text, fileName: FILE }, { env: ENV, cwd: '/work/x', ...options });
}

export function configError(text: string, options: LoadConfigOptions = {}): ConfigError {
  try {
    load(text, options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** The single issue whose path is `path`; fails listing every issue when there is not exactly one. */
export function issueAt(error: ConfigError, path: string) {
  const found = error.issues.filter((issue) => issue.path === path);
  expect(found, error.message).toHaveLength(1);
  return found[0]!;
}

/** A minimal valid config around a keyfactor plugin_config body (indented by the caller's 8 spaces). */
export function withKeyfactor(body: string, extra = ''): string {
  return `scan_config:
  plugins: [keyfactor]
  config:
    keyfactor:
      name: keyfactor
      plugin_config:
${body}
${extra}`;
}

export const OAUTH = `        url: https://command.example.com/KeyfactorAPI
        token_url: https://idp.example.com/oauth2/token
        client_id: kfsensor
        client_secret: oauth-client-secret
        scope: api://command/.default`;

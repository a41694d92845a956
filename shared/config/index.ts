// The remote-scan config (kfsensor -c FILE): load and check it, redact it for printing, hand it to the Command client.
export { ConfigError, formatIssue, MAX_LISTED_ISSUES } from './errors';
export type { ConfigIssue, ConfigWarning } from './errors';
export { interpolateString } from './interpolate';
export type { Environment } from './interpolate';
export { loadConfig } from './load';
export type { ConfigSource, LoadConfigOptions } from './load';
export { REDACTED, redactConfig } from './redact';
export { commandConnectionSettings } from './settings';
export type { RemoteConnectionSettings } from './settings';
export { CONFIG_DEFAULTS, LIMITS, LOCAL_EXPORT_FORMATS, PLUGIN_NAMES } from './types';
export type {
  BasicAuthConfig,
  CaCertificate,
  ExportPluginConfig,
  KerberosAuthConfig,
  KeyfactorAuthConfig,
  KeyfactorPluginConfig,
  LocalExportFormat,
  LocalExportPluginConfig,
  OAuth2AuthConfig,
  PluginName,
  RemoteScanConfig,
} from './types';
export { MAX_CONFIG_BYTES, MAX_DEPTH, MAX_EXPANDED_VALUES } from './yaml';

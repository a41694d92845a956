// The remote-scan config after loading: typed, defaults applied, env references expanded, paths resolved.
import type { Label, SENSOR_TYPE } from '#shared/findings/index';
import { DEFAULT_AUTO_RESOLUTION_INTERVAL, DEFAULT_PAGE_SIZE } from '#shared/scan/model';
import type { ConfigWarning } from './errors';

export const PLUGIN_NAMES = ['keyfactor', 'export', 'local_export'] as const;
export type PluginName = (typeof PLUGIN_NAMES)[number];

export const LOCAL_EXPORT_FORMATS = ['jsonl', 'csv', 'cbom'] as const;
export type LocalExportFormat = (typeof LOCAL_EXPORT_FORMATS)[number];

/** Defaults of every optional key; docs/configuration.md lists the same values. */
export const CONFIG_DEFAULTS = {
  insecureSkipTlsVerify: false,
  pageSize: DEFAULT_PAGE_SIZE,
  concurrency: 4,
  autoResolutionInterval: DEFAULT_AUTO_RESOLUTION_INTERVAL,
  krb5Conf: '/etc/krb5.conf',
  outputDir: './out',
  formats: LOCAL_EXPORT_FORMATS,
  filePrefix: 'keyfactor-command',
  sensorName: 'Remote Keyfactor Scan',
} as const;

export const LIMITS = {
  pageSize: { min: 1, max: 5000 },
  concurrency: { min: 1, max: 32 },
  autoResolutionInterval: { min: 1, max: 10_000 },
} as const;

/** Trust anchors for a TLS connection, checked to hold at least one certificate. */
export interface CaCertificate {
  source: 'inline' | 'file';
  /** Absolute path when read from a file. */
  path: string | null;
  /** PEM text of every certificate found (a DER file is converted), ready for Node's TLS `ca` option. */
  pem: string;
  count: number;
}

export interface BasicAuthConfig {
  method: 'basic';
  username: string;
  password: string;
}

export interface OAuth2AuthConfig {
  method: 'oauth2';
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  audience: string | null;
}

export interface KerberosAuthConfig {
  method: 'kerberos';
  /** User principal name, e.g. svc-kfsensor@EXAMPLE.COM. */
  upn: string;
  /** Absolute keytab path; exactly one of keytab and password is set. */
  keytab: string | null;
  password: string | null;
  /** Service principal; defaults to HTTP/<host of url>. */
  spn: string;
  /** Defaults to the UPN's realm (the part after @), else null (krb5.conf's default_realm applies). */
  realm: string | null;
  krb5Conf: string;
}

export type KeyfactorAuthConfig = BasicAuthConfig | OAuth2AuthConfig | KerberosAuthConfig;

export interface KeyfactorPluginConfig {
  /** Command's API root, e.g. https://command.example.com/KeyfactorAPI (the API path is part of it). */
  url: string;
  auth: KeyfactorAuthConfig;
  /** Command query language, checked with parseQuery; null when absent or blank (every certificate). */
  queryFilter: string | null;
  caCert: CaCertificate | null;
  insecureSkipTlsVerify: boolean;
  pageSize: number;
  concurrency: number;
  autoResolutionInterval: number;
}

export interface ExportPluginConfig {
  sensorName: string;
  sensorType: typeof SENSOR_TYPE;
  ranBy: string;
  /** Ingestion URL the findings are POSTed to. */
  url: string;
  token: string;
  labels: Label[];
  caCert: CaCertificate | null;
}

export interface LocalExportPluginConfig {
  /** Absolute directory the reports are written into. */
  outputDir: string;
  formats: LocalExportFormat[];
  filePrefix: string;
}

export interface RemoteScanConfig {
  /** The file the config came from (as given), for messages. */
  fileName: string;
  /** Plugins that run, in the order listed. keyfactor is always among them. */
  plugins: PluginName[];
  keyfactor: KeyfactorPluginConfig;
  /** Present only when listed in scan_config.plugins. */
  export: ExportPluginConfig | null;
  localExport: LocalExportPluginConfig | null;
  /** Who the findings say ran the scan: from the export plugin when it runs, else defaults ($USER). */
  sensor: { name: string; ranBy: string; labels: Label[] };
  /** Things that load but deserve attention (a configured plugin that is not listed, TLS checks off). */
  warnings: ConfigWarning[];
}

// loadConfig: read, parse (anchors, merges), check the layout, expand ${env:...}, validate each plugin, apply defaults;
// every problem is collected and thrown together as one ConfigError.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { SENSOR_TYPE, type Label } from '#shared/findings/index';
import { closestName } from '#shared/query/suggest';
import { pemToDers } from '#shared/x509/index';
import { ConfigError, type ConfigIssue, type ConfigWarning } from './errors';
import { interpolateTree, type Environment } from './interpolate';
import {
  knownKeys,
  PLUGIN_SCHEMAS,
  withoutNulls,
  type ExportInput,
  type KeyfactorInput,
  type LocalExportInput,
} from './schema';
import {
  CONFIG_DEFAULTS,
  PLUGIN_NAMES,
  type CaCertificate,
  type ExportPluginConfig,
  type KeyfactorAuthConfig,
  type KeyfactorPluginConfig,
  type LocalExportPluginConfig,
  type PluginName,
  type RemoteScanConfig,
} from './types';
import { issueAt, MAX_CONFIG_BYTES, parseYaml, pathToString, type Location, type Path } from './yaml';

export interface LoadConfigOptions {
  /** Variables for ${env:NAME}; defaults to process.env. */
  env?: Environment;
  /** Relative paths (ca_cert, keytab, krb5_conf, output_dir) resolve against this; defaults to process.cwd(). */
  cwd?: string;
}

export type ConfigSource = string | { text: string; fileName: string };

/** Largest CA bundle read from a file; a trust store is kilobytes. */
const MAX_CA_FILE_BYTES = 1024 * 1024;

/** Loads and checks a remote-scan config; throws ConfigError listing every problem with its key path and line. */
export function loadConfig(source: ConfigSource, options: LoadConfigOptions = {}): RemoteScanConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const { text, fileName } = readSource(source);
  const parsed = parseYaml(text);
  if (parsed.issues.length > 0) throw new ConfigError(fileName, parsed.issues);
  return new Loader(fileName, parsed.value, parsed.location, env, cwd).load();
}

function readSource(source: ConfigSource): { text: string; fileName: string } {
  const tooBig = (fileName: string, bytes: number) =>
    new ConfigError(fileName, [
      {
        path: '',
        line: null,
        column: null,
        message: `the file is ${bytes} bytes; a config must be at most ${MAX_CONFIG_BYTES} bytes`,
      },
    ]);
  if (typeof source !== 'string') {
    const bytes = Buffer.byteLength(source.text, 'utf8');
    if (bytes > MAX_CONFIG_BYTES) throw tooBig(source.fileName, bytes);
    return source;
  }
  try {
    // Checked before reading, so a huge (or endless, like /dev/zero) file is never loaded into memory.
    const stat = statSync(source);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MAX_CONFIG_BYTES) throw tooBig(source, stat.size);
    return { text: readFileSync(source, 'utf8'), fileName: source };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const reason = (err as { code?: string }).code ?? (err as Error).message;
    throw new ConfigError(source, [
      {
        path: '',
        line: null,
        column: null,
        message: `cannot read the config file (${reason}); check the path given to -c`,
      },
    ]);
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function suggestion(name: string, candidates: Iterable<string>): string {
  const best = closestName(name, candidates);
  return best === undefined ? '' : `; did you mean "${best}"?`;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value === 'string' ? 'text' : `a ${typeof value}`;
}

const SCAN_CONFIG_KEYS = ['plugins', 'config'];
const PLUGIN_ENTRY_KEYS = ['name', 'plugin_config'];

class Loader {
  readonly #issues: ConfigIssue[] = [];
  readonly #warnings: ConfigWarning[] = [];
  /** Paths whose ${env:...} failed: their schema errors would only repeat the same problem. */
  readonly #unexpanded = new Set<string>();

  constructor(
    readonly fileName: string,
    readonly root: unknown,
    readonly location: Location,
    readonly env: Environment,
    readonly cwd: string,
  ) {}

  #error(path: Path, message: string, which: 'value' | 'key' = 'value'): void {
    this.#issues.push(issueAt(this.location, path, message, which));
  }

  #warn(path: Path, message: string, which: 'value' | 'key' = 'value'): void {
    this.#warnings.push(issueAt(this.location, path, message, which));
  }

  #fail(): never {
    if (this.#issues.length === 0) this.#error([], 'the config is incomplete');
    // File order reads best; issues on the same line keep the order they were found in.
    const sorted = [...this.#issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(this.fileName, sorted);
  }

  load(): RemoteScanConfig {
    const scanConfig = this.#topLevel();
    if (!scanConfig) this.#fail();
    const { listed, entries } = this.#layout(scanConfig);
    const keyfactor = entries.keyfactor ? this.#keyfactor(entries.keyfactor) : null;
    const exporter = entries.export ? this.#export(entries.export) : null;
    const localExport = entries.local_export ? this.#localExport(entries.local_export) : null;
    if (this.#issues.length > 0 || !keyfactor) this.#fail();
    if (!listed.includes('export') && !listed.includes('local_export')) {
      this.#warn(
        ['scan_config', 'plugins'],
        'neither export nor local_export is listed: findings stay in the state directory only',
      );
    }
    return {
      fileName: this.fileName,
      plugins: listed,
      keyfactor,
      export: exporter,
      localExport,
      sensor: {
        name: exporter?.sensorName ?? CONFIG_DEFAULTS.sensorName,
        ranBy: exporter?.ranBy ?? this.#defaultRanBy(),
        labels: exporter?.labels ?? [],
      },
      warnings: this.#warnings,
    };
  }

  #defaultRanBy(): string {
    return this.env.USER || this.env.USERNAME || 'unknown';
  }

  /** The root map: scan_config, and x- keys that only hold anchors. */
  #topLevel(): Record<string, unknown> | undefined {
    const root = this.root;
    if (root === null || root === undefined) {
      this.#error(
        [],
        'the config is empty; it needs a scan_config block (see config/sample-configs/keyfactor.yml)',
      );
      return undefined;
    }
    if (!isMap(root)) {
      this.#error([], `the top level must be a map with a scan_config key (found ${kindOf(root)})`);
      return undefined;
    }
    for (const key of Object.keys(root)) {
      if (key === 'scan_config' || key.startsWith('x-')) continue;
      this.#error(
        [key],
        `unknown top-level key "${key}"${suggestion(key, ['scan_config'])} (keys starting with x- are ignored and may hold anchors)`,
        'key',
      );
    }
    const scanConfig = root.scan_config;
    if (scanConfig === undefined) {
      this.#error(['scan_config'], 'is required: the config lives under scan_config (plugins and config)');
      return undefined;
    }
    if (!isMap(scanConfig)) {
      this.#error(['scan_config'], `must be a map with plugins and config (found ${kindOf(scanConfig)})`);
      return undefined;
    }
    return scanConfig;
  }

  /** plugins (what runs) against config (how each is set up); returns the plugin_config of each that runs. */
  #layout(scanConfig: Record<string, unknown>): {
    listed: PluginName[];
    entries: Partial<Record<PluginName, { value: Record<string, unknown>; path: Path }>>;
  } {
    const base = ['scan_config'];
    for (const key of Object.keys(scanConfig)) {
      if (!SCAN_CONFIG_KEYS.includes(key))
        this.#error([...base, key], `unknown key "${key}"${suggestion(key, SCAN_CONFIG_KEYS)}`, 'key');
    }
    const listed: PluginName[] = [];
    const plugins = scanConfig.plugins;
    const pluginsPath = [...base, 'plugins'];
    if (plugins === undefined || plugins === null) {
      this.#error(pluginsPath, `is required: list the plugins to run (${PLUGIN_NAMES.join(', ')})`);
    } else if (!Array.isArray(plugins)) {
      this.#error(pluginsPath, `must be a list of plugin names (found ${kindOf(plugins)})`);
    } else {
      plugins.forEach((name: unknown, index) => {
        const itemPath = [...pluginsPath, index];
        if (typeof name !== 'string') {
          this.#error(itemPath, `must be a plugin name (${PLUGIN_NAMES.join(', ')}); found ${kindOf(name)}`);
        } else if (!(PLUGIN_NAMES as readonly string[]).includes(name)) {
          this.#error(
            itemPath,
            `unknown plugin "${name}"${suggestion(name, PLUGIN_NAMES)} (plugins: ${PLUGIN_NAMES.join(', ')})`,
          );
        } else if (listed.includes(name as PluginName)) {
          this.#error(itemPath, `plugin "${name}" is listed twice; list it once`);
        } else {
          listed.push(name as PluginName);
        }
      });
      if (plugins.length > 0 && !listed.includes('keyfactor') && this.#issues.length === 0) {
        this.#error(pluginsPath, 'must include keyfactor, the plugin that reads certificates from Command');
      }
      if (plugins.length === 0) this.#error(pluginsPath, 'must list at least keyfactor');
    }

    const configPath = [...base, 'config'];
    const config = scanConfig.config;
    const configured = new Map<PluginName, unknown>();
    if (config === undefined || config === null) {
      if (listed.length > 0) this.#error(configPath, 'is required: give a block for each listed plugin');
    } else if (!isMap(config)) {
      this.#error(configPath, `must be a map of plugin name to its settings (found ${kindOf(config)})`);
    } else {
      for (const [name, entry] of Object.entries(config)) {
        if (!(PLUGIN_NAMES as readonly string[]).includes(name)) {
          this.#error(
            [...configPath, name],
            `unknown plugin "${name}"${suggestion(name, PLUGIN_NAMES)} (plugins: ${PLUGIN_NAMES.join(', ')})`,
            'key',
          );
          continue;
        }
        configured.set(name as PluginName, entry);
      }
    }

    const entries: Partial<Record<PluginName, { value: Record<string, unknown>; path: Path }>> = {};
    for (const [name] of configured) {
      if (!listed.includes(name)) {
        this.#warn(
          [...configPath, name],
          `plugin "${name}" is configured but not listed in scan_config.plugins, so it does not run; add it to plugins to run it`,
          'key',
        );
      }
    }
    for (const name of listed) {
      if (!configured.has(name)) {
        this.#error(
          [...pluginsPath, listed.indexOf(name)],
          `plugin "${name}" is listed but has no scan_config.config.${name} block; add one with name and plugin_config`,
        );
        continue;
      }
      const pluginConfig = this.#pluginEntry(name, configured.get(name), [...configPath, name]);
      if (pluginConfig) entries[name] = pluginConfig;
    }
    return { listed, entries };
  }

  #pluginEntry(
    name: PluginName,
    entry: unknown,
    entryPath: Path,
  ): { value: Record<string, unknown>; path: Path } | undefined {
    if (!isMap(entry)) {
      this.#error(entryPath, `must be a map with name and plugin_config (found ${kindOf(entry)})`);
      return undefined;
    }
    for (const key of Object.keys(entry)) {
      if (!PLUGIN_ENTRY_KEYS.includes(key))
        this.#error(
          [...entryPath, key],
          `unknown key "${key}"${suggestion(key, PLUGIN_ENTRY_KEYS)}; a plugin's settings go under plugin_config`,
          'key',
        );
    }
    if (entry.name !== undefined && entry.name !== null && entry.name !== name) {
      this.#error([...entryPath, 'name'], `must be "${name}", the plugin this block configures`);
    }
    const pcPath = [...entryPath, 'plugin_config'];
    const pc = entry.plugin_config;
    if (pc === undefined) {
      this.#error(pcPath, `is required: the ${name} plugin's settings`);
      return undefined;
    }
    if (pc !== null && !isMap(pc)) {
      this.#error(pcPath, `must be a map of settings (found ${kindOf(pc)})`);
      return undefined;
    }
    const value = withoutNulls(pc ?? {});
    if (isMap(value.kerberos)) value.kerberos = withoutNulls(value.kerberos);
    // Only plugins that run are expanded: an unlisted plugin's unset variables must not block a scan.
    const before = this.#issues.length;
    interpolateTree(value, this.location, pcPath, this.env, this.#issues);
    for (const issue of this.#issues.slice(before)) this.#unexpanded.add(issue.path);
    return { value, path: pcPath };
  }

  /** Runs a plugin schema and turns its issues into located ones; unknown keys get a suggestion each. */
  #validate<T>(
    plugin: PluginName,
    schema: z.ZodType<T>,
    value: Record<string, unknown>,
    base: Path,
  ): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const inner = issue.path;
      const at = [...base, ...inner.map((s) => (typeof s === 'number' ? s : String(s)))];
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(plugin, inner);
        for (const key of issue.keys) {
          this.#error([...at, key], `unknown key "${key}"${suggestion(key, known)}`, 'key');
        }
        continue;
      }
      if (this.#unexpanded.has(pathToString(at))) continue;
      this.#error(at, issue.message);
    }
    return undefined;
  }

  #keyfactor(entry: { value: Record<string, unknown>; path: Path }): KeyfactorPluginConfig | null {
    const input = this.#validate<KeyfactorInput>(
      'keyfactor',
      PLUGIN_SCHEMAS.keyfactor,
      entry.value,
      entry.path,
    );
    const auth = this.#auth(entry.value, entry.path, input);
    if (!input || !auth) return null;
    const caCert =
      input.ca_cert === undefined ? null : this.#caCert(input.ca_cert, [...entry.path, 'ca_cert']);
    const insecure = input.insecure_skip_tls_verify ?? CONFIG_DEFAULTS.insecureSkipTlsVerify;
    if (insecure) {
      this.#warn(
        [...entry.path, 'insecure_skip_tls_verify'],
        'TLS certificate checks are off for Command: anyone on the network path can read the credentials; give ca_cert instead',
      );
    }
    const filter = input.query_filter?.trim();
    return {
      url: input.url,
      auth,
      queryFilter: filter ? (input.query_filter ?? null) : null,
      caCert,
      insecureSkipTlsVerify: insecure,
      pageSize: input.page_size ?? CONFIG_DEFAULTS.pageSize,
      concurrency: input.concurrency ?? CONFIG_DEFAULTS.concurrency,
      autoResolutionInterval: input.auto_resolution_interval ?? CONFIG_DEFAULTS.autoResolutionInterval,
    };
  }

  /** Exactly one complete auth method: Basic, OAuth2 or Kerberos. Works on the raw values so it reports even when other keys are wrong. */
  #auth(
    raw: Record<string, unknown>,
    base: Path,
    input: KeyfactorInput | undefined,
  ): KeyfactorAuthConfig | null {
    const methods = {
      Basic: { keys: ['username', 'password'], required: ['username', 'password'] },
      OAuth2: {
        keys: ['token_url', 'client_id', 'client_secret', 'scope', 'audience'],
        required: ['token_url', 'client_id', 'client_secret', 'scope'],
      },
      Kerberos: { keys: ['kerberos'], required: ['kerberos'] },
    } as const;
    const given = (Object.keys(methods) as Array<keyof typeof methods>).filter((method) =>
      methods[method].keys.some((key) => raw[key] !== undefined),
    );
    if (given.length === 0) {
      this.#error(
        base,
        'no Command credentials: give username and password (Basic), token_url, client_id, client_secret and scope (OAuth2), or a kerberos block',
        'key',
      );
      return null;
    }
    if (given.length > 1) {
      const describe = given
        .map(
          (method) =>
            `${method} (${methods[method].keys.filter((key) => raw[key] !== undefined).join(', ')})`,
        )
        .join(given.length === 2 ? ' and ' : ', ');
      this.#error(
        base,
        `${describe} are ${given.length === 2 ? 'both' : 'all'} given; keep exactly one auth method`,
        'key',
      );
      return null;
    }
    const method = given[0] as keyof typeof methods;
    const missing = methods[method].required.filter((key) => raw[key] === undefined);
    if (missing.length > 0) {
      const present = methods[method].keys.filter((key) => raw[key] !== undefined);
      for (const key of missing) {
        this.#error(
          [...base, key],
          `is required for ${method} auth (${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} given)`,
        );
      }
      return null;
    }
    if (!input) return null;
    if (method === 'Basic')
      return { method: 'basic', username: input.username ?? '', password: input.password ?? '' };
    if (method === 'OAuth2') {
      return {
        method: 'oauth2',
        tokenUrl: input.token_url ?? '',
        clientId: input.client_id ?? '',
        clientSecret: input.client_secret ?? '',
        scope: input.scope ?? '',
        audience: input.audience ?? null,
      };
    }
    return this.#kerberos(input, [...base, 'kerberos']);
  }

  #kerberos(input: KeyfactorInput, base: Path): KeyfactorAuthConfig | null {
    const k = input.kerberos;
    if (!k) return null;
    if ((k.keytab === undefined) === (k.password === undefined)) {
      this.#error(
        base,
        k.keytab === undefined
          ? "needs a keytab (path to the UPN's keytab file) or the UPN's password"
          : 'give either keytab or password, not both',
      );
      return null;
    }
    const at = k.upn.lastIndexOf('@');
    // The same rule the SPNEGO client applies, reported here with the line.
    if (at === 0 || at === k.upn.length - 1 || /[\s/\\]/.test(k.upn)) {
      this.#error([...base, 'upn'], 'is not a user principal; write it as user@REALM (or user, with realm)');
      return null;
    }
    const keytab = k.keytab === undefined ? null : path.resolve(this.cwd, k.keytab);
    if (keytab !== null) this.#checkReadable(keytab, [...base, 'keytab'], 'keytab');
    const krb5Conf =
      k.krb5_conf === undefined ? CONFIG_DEFAULTS.krb5Conf : path.resolve(this.cwd, k.krb5_conf);
    if (k.krb5_conf !== undefined) this.#checkReadable(krb5Conf, [...base, 'krb5_conf'], 'krb5.conf');
    return {
      method: 'kerberos',
      upn: k.upn,
      keytab,
      password: k.password ?? null,
      spn: k.spn ?? `HTTP/${new URL(input.url).hostname}`,
      realm: k.realm ?? (at > 0 && at < k.upn.length - 1 ? k.upn.slice(at + 1).toUpperCase() : null),
      krb5Conf,
    };
  }

  #checkReadable(file: string, at: Path, what: string): void {
    try {
      if (!statSync(file).isFile()) this.#error(at, `${what} ${file} is not a file`);
    } catch (err) {
      this.#error(at, `cannot read the ${what} file ${file} (${(err as { code?: string }).code ?? 'error'})`);
    }
  }

  /** Inline PEM, or a path to a PEM (or DER) file; either must hold at least one certificate that decodes. */
  #caCert(value: string, at: Path): CaCertificate | null {
    const inline = value.includes('-----BEGIN');
    let content: string | Buffer = value;
    let file: string | null = null;
    if (!inline) {
      file = path.resolve(this.cwd, value);
      try {
        const stat = statSync(file);
        if (!stat.isFile()) throw Object.assign(new Error(), { code: 'not a file' });
        if (stat.size > MAX_CA_FILE_BYTES)
          throw Object.assign(new Error(), { code: `larger than ${MAX_CA_FILE_BYTES} bytes` });
        content = readFileSync(file);
      } catch (err) {
        this.#error(
          at,
          `cannot read the CA file ${file} (${(err as { code?: string }).code ?? 'error'}); give a path to a PEM file or the PEM text itself`,
        );
        return null;
      }
    }
    let ders: Uint8Array[];
    try {
      ders = pemToDers(content);
    } catch (err) {
      this.#error(
        at,
        `${inline ? 'the PEM text' : `the CA file ${file}`} does not hold a readable certificate (${(err as Error).message})`,
      );
      return null;
    }
    if (ders.length === 0) {
      this.#error(at, `${inline ? 'the PEM text' : `the CA file ${file}`} holds no CERTIFICATE block`);
      return null;
    }
    const pem = ders.map((der) => toPem(der)).join('');
    return { source: inline ? 'inline' : 'file', path: file, pem, count: ders.length };
  }

  #export(entry: { value: Record<string, unknown>; path: Path }): ExportPluginConfig | null {
    const input = this.#validate<ExportInput>('export', PLUGIN_SCHEMAS.export, entry.value, entry.path);
    if (!input) return null;
    const caCert =
      input.ca_cert === undefined ? null : this.#caCert(input.ca_cert, [...entry.path, 'ca_cert']);
    const labels: Label[] = [];
    for (const item of input.labels ?? [])
      for (const [name, value] of Object.entries(item)) labels.push({ name, value });
    return {
      sensorName: input.sensor_name,
      sensorType: SENSOR_TYPE,
      ranBy: input.ran_by ?? this.#defaultRanBy(),
      url: input.url,
      token: input.token,
      labels,
      caCert,
    };
  }

  #localExport(entry: { value: Record<string, unknown>; path: Path }): LocalExportPluginConfig | null {
    const input = this.#validate<LocalExportInput>(
      'local_export',
      PLUGIN_SCHEMAS.local_export,
      entry.value,
      entry.path,
    );
    if (!input) return null;
    return {
      outputDir: path.resolve(this.cwd, input.output_dir ?? CONFIG_DEFAULTS.outputDir),
      formats: [...(input.formats ?? CONFIG_DEFAULTS.formats)],
      filePrefix: input.file_prefix ?? CONFIG_DEFAULTS.filePrefix,
    };
  }
}

function toPem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

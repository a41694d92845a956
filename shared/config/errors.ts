// ConfigError: everything wrong with a config file at once, each issue pointing at a key path and a line.
import { InputError } from '#shared/errors';

export interface ConfigIssue {
  /** Dotted key path, list items as [n], e.g. `scan_config.config.keyfactor.plugin_config.url`; '' for the file. */
  path: string;
  /** 1-based line and column in the YAML file, when known. */
  line: number | null;
  column: number | null;
  /** What is wrong and what to do about it; never contains a secret value. */
  message: string;
}

export type ConfigWarning = ConfigIssue;

/** Issues beyond this many are counted, not listed, so a hostile file cannot produce a huge message. */
export const MAX_LISTED_ISSUES = 25;

export class ConfigError extends InputError {
  readonly fileName: string;
  readonly issues: readonly ConfigIssue[];

  constructor(fileName: string, issues: readonly ConfigIssue[]) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    const more = issues.length - listed.length;
    const head =
      issues.length === 1
        ? `${fileName}: 1 problem in the config`
        : `${fileName}: ${issues.length} problems in the config`;
    const lines = listed.map((issue) => `  ${formatIssue(fileName, issue)}`);
    if (more > 0) lines.push(`  … and ${more} more`);
    super([head, ...lines].join('\n'));
    this.fileName = fileName;
    this.issues = issues;
  }
}

/** `file:line:column key.path: message`, the shape editors and terminals turn into links. */
export function formatIssue(fileName: string, issue: ConfigIssue): string {
  const where = issue.line === null ? fileName : `${fileName}:${issue.line}:${issue.column ?? 1}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

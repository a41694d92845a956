// ${env:NAME} and ${env:NAME:-default} in string values, applied after parsing: a substituted value is only ever a
// string, never YAML, so an environment variable cannot add keys or change the file's structure.
import type { ConfigIssue } from './errors';
import { issueAt, type Location, type Path } from './yaml';

export type Environment = Readonly<Record<string, string | undefined>>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands one string. `$${` is a literal `${`; any other `${` must be a well-formed env reference. Substituted text is
 * not scanned again, so a value containing `${env:...}` comes out verbatim.
 */
export function interpolateString(text: string, env: Environment): { value: string; problems: string[] } {
  if (!text.includes('${')) return { value: text, problems: [] };
  let out = '';
  const problems: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      problems.push('"${" is not closed by "}"; write $${ for a literal ${');
      out += text.slice(i);
      break;
    }
    const body = text.slice(i + 2, close);
    i = close + 1;
    if (!body.startsWith('env:')) {
      problems.push(
        `\${${shortened(body)}} is not a supported reference; use \${env:NAME} or \${env:NAME:-default}, or $\${ for a literal \${`,
      );
      continue;
    }
    const spec = body.slice(4);
    const dash = spec.indexOf(':-');
    const name = dash < 0 ? spec : spec.slice(0, dash);
    const fallback = dash < 0 ? undefined : spec.slice(dash + 2);
    if (!ENV_NAME.test(name)) {
      problems.push(`"${shortened(name)}" is not a valid environment variable name (letters, digits and _)`);
      continue;
    }
    const set = env[name];
    // As in the shell, :- also covers a variable that is set but empty.
    if (set !== undefined && (set !== '' || fallback === undefined)) out += set;
    else if (fallback !== undefined) out += fallback;
    else problems.push(`environment variable ${name} is not set; set it, or write \${env:${name}:-default}`);
  }
  return { value: out, problems };
}

function shortened(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}

/** Interpolates every string under `value` (in place for containers, returned for a bare string). */
export function interpolateTree(
  value: unknown,
  location: Location,
  rootPath: Path,
  env: Environment,
  issues: ConfigIssue[],
): unknown {
  const walk = (node: unknown, path: Path): unknown => {
    if (typeof node === 'string') {
      const { value: expanded, problems } = interpolateString(node, env);
      for (const problem of problems) issues.push(issueAt(location, path, problem));
      return expanded;
    }
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) node[index] = walk(node[index], [...path, index]);
      return node;
    }
    if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = walk(record[key], [...path, key]);
      return node;
    }
    return node;
  };
  return walk(value, rootPath);
}

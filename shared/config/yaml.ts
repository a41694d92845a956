// YAML text → plain values plus a position tree, resolving anchors, aliases and merge keys ourselves so every value
// keeps the line it was written on, and so expansion is bounded (alias bombs) and cycles are caught.
import {
  LineCounter,
  parseAllDocuments,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type Node as YamlNode,
  type Document,
  type EmptyStream,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import type { ConfigIssue } from './errors';

/** A config is a few dozen values; this is generous and still refuses a 10 MB file before parsing it. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Values produced after expanding aliases and merges; a billion-laughs file blows past it early. */
export const MAX_EXPANDED_VALUES = 10_000;
/** Nesting deeper than this is never a real config, and recursion must stay far from the stack limit. */
export const MAX_DEPTH = 64;

const TOO_DEEP_TO_PARSE = `nesting is too deep to parse (more than ${MAX_DEPTH} levels); a config is never this deep`;

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface Position {
  line: number;
  column: number;
}

/** Where a value (and, for a map entry, its key) was written; children mirror the value's keys or indices. */
export interface Location {
  value: Position | null;
  key?: Position | null;
  children?: Map<PathSegment, Location>;
}

export interface ParsedYaml {
  value: unknown;
  location: Location;
  issues: ConfigIssue[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `scan_config.config.keyfactor.plugin_config.url`, `scan_config.plugins[1]`, `labels[0]["team name"]`. */
export function pathToString(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The position of the value at `path`, or of the nearest ancestor that exists (a missing key points at its map). */
export function positionAt(root: Location, path: Path, which: 'value' | 'key' = 'value'): Position | null {
  let node = root;
  let best = root.value;
  for (const segment of path) {
    const child = node.children?.get(segment);
    // A missing key is reported on the line that names its map (`plugin_config:`), where it should be added.
    if (!child) return node.key ?? best;
    node = child;
    best = child.value ?? best;
  }
  return which === 'key' ? (node.key ?? node.value ?? best) : (node.value ?? best);
}

export function issueAt(
  root: Location,
  path: Path,
  message: string,
  which: 'value' | 'key' = 'value',
): ConfigIssue {
  const pos = positionAt(root, path, which);
  return { path: pathToString(path), line: pos?.line ?? null, column: pos?.column ?? null, message };
}

class ExpansionLimit extends Error {}

/** Parser messages sometimes quote the offending source text; a malformed line may hold a secret, so drop it. */
function sanitiseParserMessage(message: string): string {
  return message
    .replace(/ in YAML stream: .*$/s, '')
    .replace(/(extra characters): .*$/s, '$1')
    .replace(/: ".*"$/s, '')
    .slice(0, 200);
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const pos = (offset: number | undefined): Position | null => {
    if (offset === undefined) return null;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const issues: ConfigIssue[] = [];
  const empty: ParsedYaml = { value: null, location: { value: null }, issues };
  let docs: Document.Parsed[] | EmptyStream;
  try {
    docs = parseAllDocuments(text, {
      lineCounter,
      merge: true,
      // Duplicates are reported below, naming the key and both lines.
      uniqueKeys: false,
      prettyErrors: false,
      version: '1.2',
    });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    issues.push({ path: '', line: null, column: null, message: TOO_DEEP_TO_PARSE });
    return empty;
  }
  if (!Array.isArray(docs)) return empty; // an empty stream: no document at all
  for (const doc of docs) {
    for (const problem of [...doc.errors, ...doc.warnings]) {
      const at = pos(problem.pos[0]);
      issues.push({
        path: '',
        line: at?.line ?? null,
        column: at?.column ?? null,
        // The parser recurses on nesting and reports a blown stack as an error of its own.
        message: /call stack/i.test(problem.message)
          ? TOO_DEEP_TO_PARSE
          : `YAML: ${sanitiseParserMessage(problem.message)}${hintFor(problem.code)}`,
      });
    }
  }
  if (issues.length > 0) return empty;
  if (docs.length > 1) {
    const second = pos(docs[1]?.range[0]);
    issues.push({
      path: '',
      line: second?.line ?? null,
      column: second?.column ?? null,
      message: `the file holds ${docs.length} YAML documents (separated by ---); a config is one document`,
    });
    return empty;
  }
  const doc = docs[0];
  if (!doc || doc.contents === null) return empty;
  return new Expander(doc, pos, issues).run();
}

function hintFor(code: string): string {
  switch (code) {
    case 'TAB_AS_INDENT':
      return '; indent with spaces';
    case 'MISSING_CHAR':
      return '; close the quoted value that starts before this point';
    case 'BAD_INDENT':
      return '; check the indentation and closing brackets';
    case 'TAG_RESOLVE_FAILED':
      return '; remove the tag (configs use plain values)';
    default:
      return '';
  }
}

class Expander {
  readonly #doc: Document.Parsed;
  readonly #pos: (offset: number | undefined) => Position | null;
  readonly #issues: ConfigIssue[];
  /** Each alias's target: the last node with that anchor before the alias, in document order (YAML's rule). */
  readonly #aliasTargets = new Map<Alias, YamlNode | undefined>();
  readonly #expanding = new Set<YamlNode>();
  #expanded = 0;

  constructor(
    doc: Document.Parsed,
    pos: (offset: number | undefined) => Position | null,
    issues: ConfigIssue[],
  ) {
    this.#doc = doc;
    this.#pos = pos;
    this.#issues = issues;
    const anchors = new Map<string, YamlNode>();
    // One pass instead of Alias.resolve(), which walks the whole document for every alias.
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.#aliasTargets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  run(): ParsedYaml {
    try {
      const { value, location } = this.#node(this.#doc.contents as YamlNode, [], 0);
      return { value, location, issues: this.#issues };
    } catch (err) {
      if (!(err instanceof ExpansionLimit)) throw err;
      this.#issues.push({
        path: '',
        line: null,
        column: null,
        message: `aliases and merges expand to more than ${MAX_EXPANDED_VALUES} values; a real config is far smaller (this looks like an alias bomb)`,
      });
      return { value: null, location: { value: null }, issues: this.#issues };
    }
  }

  #at(node: { range?: readonly number[] | null | undefined }): Position | null {
    return this.#pos(node.range?.[0]);
  }

  #issue(path: Path, at: Position | null, message: string): void {
    this.#issues.push({
      path: pathToString(path),
      line: at?.line ?? null,
      column: at?.column ?? null,
      message,
    });
  }

  #node(node: YamlNode, path: Path, depth: number): { value: unknown; location: Location } {
    this.#expanded += 1;
    if (this.#expanded > MAX_EXPANDED_VALUES) throw new ExpansionLimit();
    const at = this.#at(node);
    if (depth > MAX_DEPTH) {
      this.#issue(path, at, `nesting is deeper than ${MAX_DEPTH} levels; a config is never this deep`);
      return { value: undefined, location: { value: at } };
    }
    if (isAlias(node)) {
      const target = this.#resolve(node, path);
      if (!target) return { value: undefined, location: { value: at } };
      this.#expanding.add(target);
      try {
        return this.#node(target, path, depth + 1);
      } finally {
        this.#expanding.delete(target);
      }
    }
    if (isScalar(node)) return { value: this.#scalar(node, path, at), location: { value: at } };
    if (isSeq(node)) {
      const items: unknown[] = [];
      const children = new Map<PathSegment, Location>();
      node.items.forEach((item, index) => {
        const child = this.#node(item as YamlNode, [...path, index], depth + 1);
        items.push(child.value);
        children.set(index, child.location);
      });
      return { value: items, location: { value: at, children } };
    }
    if (isMap(node)) return this.#map(node, path, depth, at);
    this.#issue(path, at, 'unsupported YAML node');
    return { value: undefined, location: { value: at } };
  }

  #resolve(alias: Alias, path: Path): YamlNode | undefined {
    const at = this.#at(alias);
    const target = this.#aliasTargets.get(alias);
    if (!target) {
      this.#issue(
        path,
        at,
        `*${alias.source} refers to anchor &${alias.source}, which is not defined before line ${at?.line ?? '?'}; define it above (for example under an x- key at the top of the file)`,
      );
      return undefined;
    }
    if (this.#expanding.has(target)) {
      this.#issue(
        path,
        at,
        `*${alias.source} refers to the value that contains it (a cycle); anchors cannot include themselves`,
      );
      return undefined;
    }
    return target;
  }

  #scalar(node: Scalar, path: Path, at: Position | null): unknown {
    const value = node.value;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') return value;
    this.#issue(
      path,
      at,
      `unsupported value${node.tag ? ` (tag ${node.tag})` : ''}; write plain text, a number or true/false`,
    );
    return undefined;
  }

  #map(
    node: YAMLMap,
    path: Path,
    depth: number,
    at: Position | null,
  ): { value: unknown; location: Location } {
    // Null prototype: a key named __proto__ is just a key (and then an unknown one).
    const out = Object.create(null) as Record<string, unknown>;
    const children = new Map<PathSegment, Location>();
    const merges: YamlNode[] = [];
    const explicit: Array<{ key: string; keyAt: Position | null; valueNode: YamlNode | null }> = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const keyAt = keyNode ? this.#at(keyNode) : at;
      if (isScalar(keyNode) && isMergeKey(keyNode.value)) {
        if (pair.value) merges.push(pair.value as YamlNode);
        continue;
      }
      const keyValue = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof keyValue !== 'string' && typeof keyValue !== 'number' && typeof keyValue !== 'boolean') {
        this.#issue(path, keyAt, 'map keys must be plain names');
        continue;
      }
      explicit.push({
        key: String(keyValue),
        keyAt,
        valueNode: (pair.value as YamlNode | null) ?? null,
      });
    }
    // YAML merge semantics: the map's own keys win over merged ones, and earlier merge sources win over later ones.
    const sources: Array<{ value: Record<string, unknown>; location: Location }> = [];
    for (const merge of merges) {
      const list = isSeq(merge) ? (merge.items as YamlNode[]) : [merge];
      for (const item of list) {
        const source = this.#mergeSource(item, path, depth);
        if (source) sources.push(source);
      }
    }
    for (const source of sources.reverse()) {
      for (const key of Object.keys(source.value)) {
        out[key] = source.value[key];
        const child = source.location.children?.get(key);
        if (child) children.set(key, child);
      }
    }
    const seen = new Map<string, Position | null>();
    for (const { key, keyAt, valueNode } of explicit) {
      const first = seen.get(key);
      if (seen.has(key)) {
        this.#issue(
          [...path, key],
          keyAt,
          `duplicate key "${key}" (first given on line ${first?.line ?? '?'}); keep only one`,
        );
        continue;
      }
      seen.set(key, keyAt);
      if (valueNode === null) {
        out[key] = null;
        children.set(key, { value: keyAt, key: keyAt });
        continue;
      }
      const child = this.#node(valueNode, [...path, key], depth + 1);
      out[key] = child.value;
      children.set(key, { ...child.location, key: keyAt });
    }
    return { value: out, location: { value: at, children } };
  }

  #mergeSource(
    item: YamlNode,
    path: Path,
    depth: number,
  ): { value: Record<string, unknown>; location: Location } | undefined {
    const at = this.#at(item);
    let target: YamlNode | undefined = item;
    let name = 'the merged value';
    if (isAlias(item)) {
      name = `*${item.source}`;
      target = this.#resolve(item, path);
      if (!target) return undefined;
    }
    if (!isMap(target)) {
      this.#issue(path, at, `<<: ${name} must refer to a map (key: value lines) to be merged`);
      return undefined;
    }
    this.#expanding.add(target);
    try {
      const { value, location } = this.#node(target, path, depth + 1);
      return { value: value as Record<string, unknown>, location };
    } finally {
      this.#expanding.delete(target);
    }
  }
}

function isMergeKey(value: unknown): boolean {
  // Only a plain << is a merge key (the parser turns it into a symbol); a quoted "<<" is an ordinary key.
  return typeof value === 'symbol' && value.description === '<<';
}

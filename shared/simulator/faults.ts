// Fault injection: rules that delay, fail, cut off, garble or change the inventory under chosen requests.
import type { SimulatorInventory } from './inventory';

export type FaultAction =
  | { type: 'latency'; ms: number }
  /** A status with a Command-style error body (or `body` verbatim); `retryAfter` becomes the Retry-After header. */
  | { type: 'status'; status: number; retryAfter?: number | string; body?: string }
  /** Destroys the socket without writing a response. */
  | { type: 'reset' }
  /**
   * Sends the headers and half of the real body, then ends. By default the body is chunked, so the response
   * completes and only JSON parsing fails; with `declaredLength` the full Content-Length is announced and the
   * socket is destroyed after half, so the client sees a premature close instead.
   */
  | { type: 'truncated'; declaredLength?: boolean }
  /** 200 with a body that is not JSON ('not-json', default), an IIS-style HTML page, or JSON of the wrong shape. */
  | { type: 'malformed'; variant?: 'not-json' | 'html' | 'wrong-shape' }
  /** Changes the inventory before this request is served: a result set that changes between pages. */
  | { type: 'mutate'; apply: (inventory: SimulatorInventory) => void | Promise<void> };

export type FaultType = FaultAction['type'];

export interface FaultMatch {
  /** Path relative to the API base, e.g. '/Certificates'; a string matches the whole path case-insensitively. */
  path?: string | RegExp;
  method?: string;
  /** PageReturned of the request (1 when not sent). */
  page?: number;
  /** Tested against the query text (the decoded QueryString / pq.queryString), e.g. to fail one CertId range. */
  query?: RegExp;
  /** Fire on every Nth request that matches path/method/page (counted per rule, from its creation). */
  every?: number;
  /** Chance to fire on a matching request, drawn from the simulator's seeded generator. */
  probability?: number;
}

export interface FaultRule {
  match?: FaultMatch;
  /** How many times the rule fires before it goes inert; default 1, Infinity allowed. */
  times?: number;
  action: FaultAction;
  /** Shown in the request log next to the rule id. */
  name?: string;
}

export interface FiredFault {
  ruleId: number;
  type: FaultType;
  name?: string;
}

export interface FaultRuleSummary {
  id: number;
  name?: string;
  type: FaultType;
  remaining: number;
  matched: number;
  fired: number;
}

interface RuleState {
  id: number;
  rule: FaultRule;
  remaining: number;
  matched: number;
  fired: number;
}

export interface FaultSelection {
  /** latency and mutate: applied in rule order before the request is served. */
  modifiers: Array<{ id: number; action: Extract<FaultAction, { type: 'latency' | 'mutate' }> }>;
  /** At most one rule that decides the response; the first in insertion order wins. */
  terminal: { id: number; action: Exclude<FaultAction, { type: 'latency' | 'mutate' }> } | null;
  fired: FiredFault[];
}

export interface FaultRequestFacts {
  method: string;
  path: string;
  page: number | undefined;
  /** The decoded query text of a list request; undefined when none was sent. */
  query?: string | undefined;
}

/** mulberry32: small, fast and good enough to make probabilistic faults repeatable for a given seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isModifier(action: FaultAction): action is Extract<FaultAction, { type: 'latency' | 'mutate' }> {
  return action.type === 'latency' || action.type === 'mutate';
}

function pathMatches(pattern: string | RegExp, path: string): boolean {
  if (typeof pattern === 'string') return pattern.toLowerCase() === path.toLowerCase();
  pattern.lastIndex = 0;
  return pattern.test(path);
}

export class FaultInjector {
  private readonly rules: RuleState[] = [];
  private nextId = 1;
  private readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** Returns the rule's id, which the request log reports when it fires. */
  add(rule: FaultRule): number {
    const times = rule.times ?? 1;
    if (!(times > 0)) throw new RangeError('fault rule: times must be positive');
    if (rule.match?.every !== undefined && !(Number.isInteger(rule.match.every) && rule.match.every > 0)) {
      throw new RangeError('fault rule: every must be a positive integer');
    }
    const id = this.nextId++;
    this.rules.push({ id, rule, remaining: times, matched: 0, fired: 0 });
    return id;
  }

  remove(id: number): boolean {
    const index = this.rules.findIndex((r) => r.id === id);
    if (index < 0) return false;
    this.rules.splice(index, 1);
    return true;
  }

  clear(): void {
    this.rules.length = 0;
  }

  list(): FaultRuleSummary[] {
    return this.rules.map((r) => ({
      id: r.id,
      ...(r.rule.name === undefined ? {} : { name: r.rule.name }),
      type: r.rule.action.type,
      remaining: r.remaining,
      matched: r.matched,
      fired: r.fired,
    }));
  }

  /** Decides which rules fire for this request and uses up their `times`. */
  select(request: FaultRequestFacts): FaultSelection {
    const selection: FaultSelection = { modifiers: [], terminal: null, fired: [] };
    for (const state of this.rules) {
      if (state.remaining <= 0) continue;
      const match = state.rule.match ?? {};
      if (match.method !== undefined && match.method.toUpperCase() !== request.method.toUpperCase()) continue;
      if (match.path !== undefined && !pathMatches(match.path, request.path)) continue;
      if (match.page !== undefined && match.page !== request.page) continue;
      if (match.query !== undefined && !match.query.test(request.query ?? '')) continue;
      state.matched++;
      if (match.every !== undefined && state.matched % match.every !== 0) continue;
      const action = state.rule.action;
      // A second response-deciding rule waits for a request of its own instead of being used up unseen.
      if (!isModifier(action) && selection.terminal !== null) continue;
      if (match.probability !== undefined && !(this.random() < match.probability)) continue;
      state.remaining--;
      state.fired++;
      selection.fired.push({
        ruleId: state.id,
        type: action.type,
        ...(state.rule.name === undefined ? {} : { name: state.rule.name }),
      });
      if (isModifier(action)) selection.modifiers.push({ id: state.id, action });
      else selection.terminal = { id: state.id, action };
    }
    return selection;
  }
}

/** "rule 2 (slow page) latency; rule 3 status": the request log's one-line account of what fired. */
export function describeFiredFaults(fired: readonly FiredFault[]): string | undefined {
  if (fired.length === 0) return undefined;
  return fired.map((f) => `rule ${f.ruleId}${f.name ? ` (${f.name})` : ''} ${f.type}`).join('; ');
}

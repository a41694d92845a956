import { describe, expect, it } from 'vitest';
import {
  describeFiredFaults,
  FaultInjector,
  seededRandom,
  type FaultRequestFacts,
} from '#shared/simulator/faults';

const certificatesPage = (page: number): FaultRequestFacts => ({
  method: 'GET',
  path: '/Certificates',
  page,
});

describe('FaultInjector', () => {
  it('fires a rule once by default, then lets requests through', () => {
    const faults = new FaultInjector();
    const id = faults.add({ action: { type: 'status', status: 503 } });
    expect(faults.select(certificatesPage(1)).terminal?.id).toBe(id);
    expect(faults.select(certificatesPage(1)).terminal).toBeNull();
  });

  it('fires `times` times, and forever with Infinity', () => {
    const faults = new FaultInjector();
    faults.add({ times: 2, action: { type: 'reset' } });
    const fired = [1, 2, 3].map(() => faults.select(certificatesPage(1)).terminal !== null);
    expect(fired).toEqual([true, true, false]);
    faults.add({ times: Infinity, action: { type: 'reset' } });
    for (let i = 0; i < 50; i++) expect(faults.select(certificatesPage(1)).terminal).not.toBeNull();
  });

  it('matches path (string case-insensitively, or RegExp), method and page', () => {
    const faults = new FaultInjector();
    faults.add({ match: { path: '/certificates', page: 3 }, times: Infinity, action: { type: 'reset' } });
    faults.add({
      match: { path: /^\/Certificates\/\d+$/, method: 'get' },
      times: Infinity,
      action: { type: 'status', status: 500 },
    });
    expect(faults.select(certificatesPage(2)).terminal).toBeNull();
    expect(faults.select(certificatesPage(3)).terminal?.action.type).toBe('reset');
    expect(faults.select({ method: 'GET', path: '/Certificates/12', page: 1 }).terminal?.action.type).toBe(
      'status',
    );
    expect(faults.select({ method: 'POST', path: '/Certificates/12', page: 1 }).terminal).toBeNull();
    expect(faults.select({ method: 'GET', path: '/MetadataFields', page: 3 }).terminal).toBeNull();
  });

  it('fires on every Nth matching request only', () => {
    const faults = new FaultInjector();
    faults.add({ match: { path: '/Certificates', every: 3 }, times: Infinity, action: { type: 'reset' } });
    const pattern = Array.from(
      { length: 9 },
      (_, i) => faults.select(certificatesPage(i + 1)).terminal !== null,
    );
    expect(pattern).toEqual([false, false, true, false, false, true, false, false, true]);
  });

  it('draws probabilistic faults from the seed, so a seed replays the same failures', () => {
    const run = (seed: number) => {
      const faults = new FaultInjector(seed);
      faults.add({ match: { probability: 0.3 }, times: Infinity, action: { type: 'reset' } });
      return Array.from({ length: 200 }, () => faults.select(certificatesPage(1)).terminal !== null);
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    const rate = run(7).filter(Boolean).length / 200;
    expect(rate).toBeGreaterThan(0.15);
    expect(rate).toBeLessThan(0.45);
  });

  it('applies modifiers from every matching rule but lets only the first response-deciding rule fire', () => {
    const faults = new FaultInjector();
    const slow = faults.add({ action: { type: 'latency', ms: 10 } });
    const first = faults.add({ action: { type: 'status', status: 429, retryAfter: 2 } });
    const second = faults.add({ action: { type: 'reset' } });
    const selection = faults.select(certificatesPage(1));
    expect(selection.modifiers.map((m) => m.id)).toEqual([slow]);
    expect(selection.terminal?.id).toBe(first);
    expect(selection.fired.map((f) => f.ruleId)).toEqual([slow, first]);
    // The second terminal rule was not used up: it decides the next request.
    expect(faults.select(certificatesPage(1)).terminal?.id).toBe(second);
  });

  it('clears and removes rules, and reports their counters', () => {
    const faults = new FaultInjector();
    const id = faults.add({ name: 'flaky', times: 3, action: { type: 'truncated' } });
    faults.select(certificatesPage(1));
    expect(faults.list()).toEqual([
      { id, name: 'flaky', type: 'truncated', remaining: 2, matched: 1, fired: 1 },
    ]);
    expect(faults.remove(id)).toBe(true);
    expect(faults.remove(id)).toBe(false);
    faults.add({ action: { type: 'reset' } });
    faults.clear();
    expect(faults.select(certificatesPage(1)).fired).toEqual([]);
  });

  it('refuses rules that could never fire', () => {
    const faults = new FaultInjector();
    expect(() => faults.add({ times: 0, action: { type: 'reset' } })).toThrow(RangeError);
    expect(() => faults.add({ match: { every: 0 }, action: { type: 'reset' } })).toThrow(RangeError);
  });
});

describe('describeFiredFaults', () => {
  it('names each fired rule', () => {
    expect(describeFiredFaults([])).toBeUndefined();
    expect(
      describeFiredFaults([
        { ruleId: 1, type: 'latency' },
        { ruleId: 4, type: 'status', name: 'throttle' },
      ]),
    ).toBe('rule 1 latency; rule 4 (throttle) status');
  });
});

describe('seededRandom', () => {
  it('yields values in [0, 1)', () => {
    const random = seededRandom(123);
    for (let i = 0; i < 1000; i++) {
      const value = random();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

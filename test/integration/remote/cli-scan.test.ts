// The real CLI over the embedded SQLite state: full then incremental runs, Ctrl-C and kill -9 mid-scan followed by a
// rerun (nothing lost, nothing twice at the receiver), a wrong password, and --dry-run's single probe.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CommandCertificate } from '#shared/keyfactor/index';
import { generateInventory } from '#shared/simulator/generator/index';
import {
  basicConfigYaml,
  basicEnv,
  runCli,
  startCli,
  startServices,
  tempDir,
  type Services,
} from './support';

const GENERATED_AT = new Date('2026-01-01T00:00:00Z');
let inventory: CommandCertificate[] = [];
let distinct = 0;

beforeAll(() => {
  inventory = generateInventory({ seed: 21, count: 400, now: GENERATED_AT });
  distinct = new Set(inventory.map((c) => c.ContentBytes)).size;
});

const open: Services[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function setup(options: { pageSize?: number; concurrency?: number; local?: boolean } = {}) {
  const services = await startServices(inventory);
  open.push(services);
  const dir = tempDir('kfsensor-cli-scan-');
  const out = path.join(dir, 'out');
  const stateDir = path.join(dir, 'state');
  const file = path.join(dir, 'keyfactor.yml');
  writeFileSync(
    file,
    basicConfigYaml({
      commandUrl: services.sim.url,
      ingestionUrl: services.receiver.url,
      pageSize: options.pageSize ?? 50,
      concurrency: options.concurrency ?? 4,
      ...(options.local === false ? {} : { outputDir: out }),
    }),
  );
  return { ...services, dir, out, stateDir, file, args: ['-c', file, '--state-dir', stateDir] };
}

describe('kfsensor -c FILE over the embedded state', () => {
  it('a full run then an incremental one: reports written, only changes fetched the second time', async () => {
    const { sim, receiver, out, stateDir, args } = await setup();
    const first = await runCli(args, { env: basicEnv() });
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/COMPLETED \(full\)/);
    expect(first.out).toContain('Highest severity');
    expect(first.out).toContain('Expiry:');
    expect(readdirSync(stateDir)).toContain('state.sqlite');
    expect(readFileSync(path.join(out, 'kf-findings.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(
      distinct,
    );
    expect(receiver.findings.size).toBe(distinct);
    // No secret in anything the process printed.
    expect(first.out + first.err).not.toContain(basicEnv().COMMAND_PASSWORD);
    expect(first.out + first.err).not.toContain(basicEnv().SENSOR_TOKEN);

    sim.inventory.revoke(inventory[30]!.Id);
    sim.requestLog.clear();
    const second = await runCli(args, { env: basicEnv() });
    expect(second.code, second.err).toBe(0);
    expect(second.out).toMatch(/COMPLETED \(incremental\)/);
    expect(second.out).toMatch(/Fetched 1 of 1 planned/);
    for (const entry of sim.requestLog.certificatePages()) {
      expect(entry.params?.queryString).toMatch(/CertId -gt|RevocationDate/);
    }
    expect(receiver.findings.size).toBe(distinct);
    expect(receiver.stats.findingLines).toBe(distinct + 1); // the revoked certificate's changed finding
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} mid-scan, then a rerun: one finding per certificate, none twice at the receiver`, async () => {
      const { sim, receiver, stateDir, args } = await setup({ pageSize: 20, concurrency: 2 });
      let served = 0;
      let resolveHalf: () => void = () => {};
      const half = new Promise<void>((resolve) => (resolveHalf = resolve));
      sim.faults.add({
        match: { path: '/Certificates' },
        times: Infinity,
        action: {
          type: 'mutate',
          apply: () => {
            served += 1;
            if (served === 8) resolveHalf();
          },
        },
      });
      // Slow pages leave a wide margin between the signal and the scan's natural end (noisy CI machines).
      sim.faults.add({
        match: { path: '/Certificates' },
        times: Infinity,
        action: { type: 'latency', ms: 100 },
      });
      const cli = startCli(args, { env: basicEnv() });
      await half;
      cli.child.kill(signal);
      const killed = await cli.done;
      if (signal !== 'SIGKILL') {
        // Ctrl-C and a service manager's stop alike: in-flight pages finish, the scan is CANCELLED, exit 130.
        expect(killed.code, killed.err).toBe(130);
        expect(killed.err).toMatch(new RegExp(`${signal}: stopping`));
      } else {
        expect(killed.signal).toBe('SIGKILL');
      }
      const partialFindings = receiver.findings.size;
      expect(partialFindings).toBeLessThan(distinct);
      expect(existsSync(path.join(stateDir, 'state.sqlite'))).toBe(true);

      sim.faults.clear();
      const rerun = await runCli(args, { env: basicEnv() });
      expect(rerun.code, rerun.err).toBe(0);
      if (signal === 'SIGKILL') expect(rerun.err).toMatch(/resuming a scan an earlier run left unfinished/);
      else expect(rerun.out).toMatch(/COMPLETED \(full\)/);
      expect(receiver.findings.size).toBe(distinct);
      // Accepted lines = distinct findings: no finding arrived in two different batches.
      expect(receiver.stats.findingLines).toBe(distinct);
      const jsonl = readFileSync(path.join(path.dirname(stateDir), 'out', 'kf-findings.jsonl'), 'utf8');
      const ids = jsonl
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id);
      expect(ids).toHaveLength(distinct);
      expect(new Set(ids).size).toBe(distinct);
    });
  }

  it('a range failing on every attempt exits 4 (PARTIAL), naming the range', async () => {
    const { sim, args } = await setup({ local: false });
    const lowest = Math.min(...inventory.map((c) => c.Id));
    sim.faults.add({
      match: { path: '/Certificates', query: new RegExp(`CertId -ge "${lowest}"`) },
      times: Infinity,
      action: {
        type: 'status',
        status: 400,
        body: '{"ErrorCode":"0xA0110000","Message":"simulated bad range"}',
      },
    });
    const run = await runCli(args, { env: basicEnv() });
    expect(run.code, run.err).toBe(4);
    expect(run.out).toMatch(/PARTIAL/);
    expect(run.out).toMatch(new RegExp(`error page:r${lowest}-\\d+: CertIds ${lowest}-\\d+`));
  });

  it('a wrong password exits 3', async () => {
    const { args, receiver } = await setup({ local: false });
    const run = await runCli(args, { env: basicEnv('wrong password') });
    expect(run.code, run.err).toBe(3);
    expect(run.err).toMatch(/401|refused|credential|authenticat/i);
    expect(run.err).not.toContain('wrong password');
    expect(receiver.stats.requests).toBe(0);
  });

  it('--dry-run authenticates and sends one page-size-1 request, nothing else, and stores nothing', async () => {
    const { sim, args, stateDir, receiver } = await setup();
    sim.requestLog.clear();
    const run = await runCli([...args, '--dry-run'], { env: basicEnv() });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain(`Matching certificates: ${inventory.length}`);
    const pages = sim.requestLog.certificatePages();
    expect(pages).toHaveLength(1);
    expect(pages[0]!.params?.returnLimit).toBe(1);
    expect(existsSync(stateDir)).toBe(false);
    expect(receiver.stats.requests).toBe(0);
  });

  it('--log-format json writes JSON lines on stderr', async () => {
    const { args } = await setup({ local: false });
    const run = await runCli([...args, '--log-format', 'json'], { env: basicEnv() });
    expect(run.code, run.err).toBe(0);
    const lines = run.err.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(lines.some((l) => (JSON.parse(l) as { message: string }).message === 'scan finished')).toBe(true);
  });
});

// A remote scan with the config's kerberos block against a real MIT KDC and the simulator's Negotiate auth: the
// settings travel as CommandCredentials.kerberos through the core to the Command client; a wrong password is exit 3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInventory } from '#shared/simulator/generator/index';
import { startSimulator, type RunningSimulator } from '#shared/simulator/server';
import { startKdc, type RunningKdc } from '#test/support/kdc';
import { loadText, runOnce, sharedMemoryState } from './support';

const ALICE_PASSWORD = 'alice-Remote-Horse-7';
let kdc: RunningKdc;
let sim: RunningSimulator;
let distinct = 0;

beforeAll(async () => {
  kdc = await startKdc({
    principals: [{ name: 'alice', password: ALICE_PASSWORD }],
    services: ['HTTP/127.0.0.1'],
  });
  const inventory = generateInventory({ seed: 31, count: 90, now: new Date('2026-01-01T00:00:00Z') });
  distinct = new Set(inventory.map((c) => c.ContentBytes)).size;
  sim = await startSimulator({
    certificates: inventory,
    auth: { negotiate: { keytab: kdc.serviceKeytab, krb5Conf: kdc.krb5Conf } },
    prewarm: false,
  });
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await kdc?.stop();
});

function kerberosYaml(login: string): string {
  return `
scan_config:
  plugins: [keyfactor]
  config:
    keyfactor:
      name: keyfactor
      plugin_config:
        url: ${JSON.stringify(sim.url)}
        page_size: 25
        kerberos:
          upn: alice@${kdc.realm}
          ${login}
          krb5_conf: ${JSON.stringify(kdc.krb5Conf)}
`;
}

describe('remote scan over Kerberos', () => {
  it('with a keytab: every certificate read as alice (settings passed through the core as CommandCredentials.kerberos)', async () => {
    const state = sharedMemoryState();
    const config = loadText(kerberosYaml(`keytab: ${JSON.stringify(kdc.keytab('alice'))}`), {});
    expect(config.keyfactor.auth.method).toBe('kerberos');
    sim.requestLog.clear();
    const result = await runOnce(config, { openState: state.open });
    expect(result.error).toBeNull();
    expect(result.exitCode).toBe(0);
    expect(result.scan?.sensor.authMethod).toBe('kerberos');
    let stored = 0;
    for await (const page of state.state()!.findings.listFindings(result.scan!.sensorKey))
      stored += page.length;
    expect(stored).toBe(distinct);
    const entries = sim.requestLog.entries();
    expect(entries.every((e) => e.principal === `alice@${kdc.realm}` && e.status === 200)).toBe(true);
  });

  it('with the password from the environment; a wrong one is exit 3 with a clear message', async () => {
    const good = loadText(kerberosYaml('password: "${env:KRB_PASSWORD}"'), { KRB_PASSWORD: ALICE_PASSWORD });
    const ok = await runOnce(good, { openState: sharedMemoryState().open });
    expect(ok.exitCode, ok.error ?? '').toBe(0);

    const bad = loadText(kerberosYaml('password: "${env:KRB_PASSWORD}"'), { KRB_PASSWORD: 'not-alice' });
    const refused = await runOnce(bad, { openState: sharedMemoryState().open });
    expect(refused.exitCode).toBe(3);
    expect(refused.scan?.state).toBe('FAILED');
    expect(refused.error).toMatch(/Kerberos|kinit|password|credential/i);
    expect(refused.error).not.toContain('not-alice');
  });
});

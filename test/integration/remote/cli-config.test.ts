// `kfsensor -c FILE` as a user runs it (a real child process): config errors exit 2 naming the problem and its line,
// --print-config redacts secrets, --help lists every option and the exit codes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicConfigYaml, runCli, tempDir } from './support';

const SECRET = 'hunter2-do-not-print';

function configFile(text: string): string {
  const file = path.join(tempDir('kfsensor-cli-'), 'keyfactor.yml');
  writeFileSync(file, text);
  return file;
}

const good = () =>
  basicConfigYaml({
    commandUrl: 'http://127.0.0.1:9/KeyfactorAPI',
    ingestionUrl: 'http://127.0.0.1:9/v1/batches',
  });
const env = { COMMAND_PASSWORD: SECRET, SENSOR_TOKEN: 'token-do-not-print', USER: 'tester' };

describe('kfsensor -c with a bad config exits 2 and says what is wrong', () => {
  const cases: Array<{ name: string; text: string; env?: Record<string, string>; expect: RegExp }> = [
    {
      name: 'bad YAML',
      text: 'scan_config:\n  plugins: [keyfactor\n  config: {}\n',
      expect: /keyfactor\.yml:\d+/,
    },
    {
      name: 'a missing environment variable',
      text: good(),
      env: { SENSOR_TOKEN: 'x', USER: 'tester' },
      expect: /COMMAND_PASSWORD/,
    },
    {
      name: 'a wrong sensor_type',
      text: good().replace('sensor_type: "Keyfactor Command"', 'sensor_type: "Keyfactor"'),
      expect: /sensor_type/,
    },
    {
      name: 'two auth methods',
      text: good().replace(
        "        username: 'CORP\\alice'\n",
        "        username: 'CORP\\alice'\n        token_url: https://login.example.com/token\n        client_id: abc\n        client_secret: def\n        scope: api\n",
      ),
      expect: /Basic|OAuth2|auth/,
    },
    {
      name: 'an unknown plugin',
      text: good().replace('plugins: [keyfactor, export]', 'plugins: [keyfactor, exporter]'),
      expect: /unknown plugin "exporter"/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const file = configFile(c.text);
      const run = await runCli(['-c', file, '--state-dir', tempDir()], { env: c.env ?? env });
      expect(run.code, run.err).toBe(2);
      expect(run.err).toMatch(c.expect);
      expect(run.err).toContain(file);
      expect(run.err + run.out).not.toContain(SECRET);
      expect(run.err).not.toMatch(/\n\s+at /); // no stack trace for a user's mistake
    });
  }

  it('two auth methods name both', async () => {
    const text = good().replace(
      "        username: 'CORP\\alice'\n",
      "        username: 'CORP\\alice'\n        token_url: https://login.example.com/token\n        client_id: abc\n        client_secret: def\n        scope: api\n",
    );
    const run = await runCli(['-c', configFile(text)], { env });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/Basic/);
    expect(run.err).toMatch(/OAuth2/);
  });

  it('a config file that does not exist', async () => {
    const run = await runCli(['-c', '/nonexistent/keyfactor.yml'], { env });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/cannot read the config file/);
  });
});

describe('kfsensor -c FILE --print-config', () => {
  it('prints the loaded config with secrets redacted and exits 0', async () => {
    const run = await runCli(['-c', configFile(good()), '--print-config'], { env });
    expect(run.code, run.err).toBe(0);
    const printed = JSON.parse(run.out) as { keyfactor: { auth: { password: string; username: string } } };
    expect(printed.keyfactor.auth).toMatchObject({
      method: 'basic',
      username: 'CORP\\alice',
      password: '***',
    });
    expect(run.out).not.toContain(SECRET);
    expect(run.out).not.toContain('token-do-not-print');
  });
});

describe('kfsensor --help', () => {
  it('lists every scan option with its default and the exit codes', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const option of [
      '-c, --config',
      '--state-dir',
      '--dry-run',
      '--print-config',
      '--log-format',
      '--no-progress',
    ]) {
      expect(run.out).toContain(option);
    }
    expect(run.out).toMatch(/default: "text"/);
    expect(run.out).toMatch(/Exit codes:[\s\S]*\b3\b[\s\S]*authentication/);
    const scanHelp = await runCli(['scan', '--help']);
    expect(scanHelp.code).toBe(0);
    expect(scanHelp.out).toContain('--state-dir');
    expect(scanHelp.out).toContain('Exit codes:');
  });

  it('kfsensor with no -c and no command prints help and exits 2', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.out + run.err).toContain('--config');
  });
});

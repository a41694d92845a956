// A real MIT Kerberos KDC on a free loopback port in a temp dir (MIT's own k5test recipe), for SPNEGO tests.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface KdcPrincipal {
  /** The name without realm, e.g. `alice`. */
  name: string;
  password: string;
  /** kadmin's -maxlife, e.g. "5 seconds": the longest ticket the KDC issues to this principal. */
  maxLife?: string;
}

export interface StartKdcOptions {
  realm?: string;
  principals: KdcPrincipal[];
  /** Service principals such as `HTTP/127.0.0.1`; all go into one service keytab. */
  services: string[];
  /** Extra `[libdefaults]` lines for the client krb5.conf, e.g. `clockskew = 10`. */
  libdefaults?: Record<string, string>;
}

export interface RunningKdc {
  realm: string;
  dir: string;
  /** The client krb5.conf pointing at this KDC; give it as krb5_conf / krb5Conf. */
  krb5Conf: string;
  port: number;
  /** A client keytab for a principal created at start (`ktadd -norandkey`, so its password stays valid). */
  keytab(principal: string): string;
  /** Keytab with every service principal, for the server side (KRB5_KTNAME). */
  serviceKeytab: string;
  /** Runs kadmin.local queries against this realm (modprinc, delprinc, ...). */
  kadmin(...queries: string[]): Promise<string>;
  /** Stops the KDC; the realm files stay until close(). Tickets can then no longer be obtained. */
  stopKdc(): Promise<void>;
  stop(): Promise<void>;
}

const TOOLS = [
  ['/usr/sbin/kdb5_util', 'krb5-kdc'],
  ['/usr/sbin/krb5kdc', 'krb5-kdc'],
  ['/usr/sbin/kadmin.local', 'krb5-admin-server'],
  ['/usr/bin/kinit', 'krb5-user'],
] as const;

/** Where a tool lives: the Debian sbin path, else PATH. */
function toolPath(absolute: string): string {
  try {
    accessSync(absolute, constants.X_OK);
    return absolute;
  } catch {
    return path.basename(absolute);
  }
}

/** Fails with the apt packages to install when the MIT KDC tools are missing. */
export async function assertKdcInstalled(): Promise<void> {
  const missing: string[] = [];
  for (const [tool, pkg] of TOOLS) {
    const found = await new Promise<boolean>((resolve) => {
      const child = spawn(toolPath(tool), ['-?'], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('exit', () => resolve(true));
    });
    if (!found) missing.push(`${path.basename(tool)} (${pkg})`);
  }
  if (missing.length > 0) {
    throw new Error(
      `The MIT Kerberos tools ${missing.join(', ')} are not installed; run: apt-get install -y krb5-kdc krb5-admin-server krb5-user libkrb5-dev`,
    );
  }
}

/** A port free on 127.0.0.1 for both UDP and TCP at the time of the call. */
async function freePort(): Promise<number> {
  for (let tries = 0; tries < 20; tries += 1) {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => {
      try {
        udp.close(() => resolve());
      } catch {
        resolve();
      }
    });
    if (udpFree) return port;
  }
  throw new Error('No free loopback port for the KDC');
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(toolPath(file), args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args[0] ?? ''} failed: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Starts krb5kdc in the foreground (-n) as a child, ready when it says "starting...". */
async function startKrb5kdc(dir: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(toolPath('/usr/sbin/krb5kdc'), ['-n', '-P', path.join(dir, 'kdc.pid')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`krb5kdc did not start in 10 s: ${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('starting...')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`krb5kdc exited with ${code}: ${output}`));
    });
  });
  child.removeAllListeners('exit');
  // Keep draining its output so a chatty KDC never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

export async function startKdc(options: StartKdcOptions): Promise<RunningKdc> {
  await assertKdcInstalled();
  const realm = options.realm ?? 'TEST.LOCAL';
  const dir = await mkdtemp(path.join(tmpdir(), 'kfsensor-kdc-'));
  try {
    const port = await freePort();
    const krb5Conf = path.join(dir, 'krb5.conf');
    const kdcConf = path.join(dir, 'kdc.conf');
    const extra = Object.entries(options.libdefaults ?? {})
      .map(([k, v]) => `  ${k} = ${v}\n`)
      .join('');
    // No DNS anywhere: explicit KDC, no canonicalisation, so 127.0.0.1 and localhost stay what they are.
    await writeFile(
      krb5Conf,
      `[libdefaults]\n  default_realm = ${realm}\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n` +
        `  dns_canonicalize_hostname = false\n  rdns = false\n  udp_preference_limit = 1\n${extra}` +
        `[realms]\n  ${realm} = {\n    kdc = 127.0.0.1:${port}\n  }\n` +
        `[domain_realm]\n  localhost = ${realm}\n  127.0.0.1 = ${realm}\n`,
    );
    await writeFile(
      kdcConf,
      `[realms]\n  ${realm} = {\n    database_module = db\n    key_stash_file = ${dir}/stash\n` +
        `    acl_file = ${dir}/kadm5.acl\n    kdc_listen = 127.0.0.1:${port}\n    kdc_tcp_listen = 127.0.0.1:${port}\n  }\n` +
        `[dbmodules]\n  db = {\n    db_library = db2\n    database_name = ${dir}/principal\n  }\n` +
        `[logging]\n  kdc = FILE:${dir}/kdc.log\n`,
    );
    await writeFile(path.join(dir, 'kadm5.acl'), '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      LC_ALL: 'C',
      KRB5_CONFIG: krb5Conf,
      KRB5_KDC_PROFILE: kdcConf,
      KRB5CCNAME: `FILE:${dir}/admin-ccache`,
    };
    await run('/usr/sbin/kdb5_util', ['create', '-s', '-P', 'kdc-master-password', '-r', realm], env);

    const keytabs = new Map<string, string>();
    const serviceKeytab = path.join(dir, 'service.keytab');
    const queries: string[] = [];
    for (const p of options.principals) {
      const file = path.join(dir, `${p.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.keytab`);
      keytabs.set(p.name, file);
      const maxLife = p.maxLife ? ` -maxlife "${p.maxLife}"` : '';
      queries.push(`addprinc -pw ${p.password}${maxLife} ${p.name}`, `ktadd -norandkey -k ${file} ${p.name}`);
    }
    for (const s of options.services)
      queries.push(`addprinc -randkey ${s}`, `ktadd -k ${serviceKeytab} ${s}`);
    // One kadmin.local for every query: it reads them from stdin, which keeps start-up well under a second.
    const kadmin = async (...qs: string[]): Promise<string> => {
      const { stdout, stderr } = await run('/usr/sbin/kadmin.local', [], env, `${qs.join('\n')}\n`);
      const failure = stderr.split('\n').find((line) => / while |usage:|Invalid|not found/i.test(line));
      if (failure) throw new Error(`kadmin.local failed: ${failure}`);
      return stdout;
    };
    await kadmin(...queries);
    for (const file of [...keytabs.values(), ...(options.services.length > 0 ? [serviceKeytab] : [])]) {
      await access(file);
    }

    let kdc: ChildProcess | undefined = await startKrb5kdc(dir, env);
    const stopKdc = async () => {
      const child = kdc;
      kdc = undefined;
      if (!child || child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    };
    return {
      realm,
      dir,
      krb5Conf,
      port,
      serviceKeytab,
      keytab(principal: string): string {
        const file = keytabs.get(principal.replace(/@.*$/, ''));
        if (!file) throw new Error(`No principal ${principal} was created in this KDC`);
        return file;
      },
      kadmin,
      stopKdc,
      async stop() {
        await stopKdc();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

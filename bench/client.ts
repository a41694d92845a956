// Client throughput against the simulator on loopback, with the raw HTTP cost of the same pages as the baseline.
import { Pool } from 'undici';
import { BasicAuth, CommandClient } from '#shared/keyfactor/index';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { startSimulator } from '#shared/simulator/server';
import { median, type Row } from './report';

const USER = { username: 'bench', password: 'bench-password' };
const HEADERS = {
  authorization: `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`,
  accept: 'application/json',
  'x-keyfactor-requested-with': 'APIClient',
};

interface Pass {
  seconds: number;
  certificates: number;
  requests: number;
  bytes: number;
}

export async function benchClient(
  certificates: CommandCertificate[],
  options: { pageSize?: number; runs?: number } = {},
): Promise<Row[]> {
  const pageSize = options.pageSize ?? 1000;
  const runs = options.runs ?? 3;
  const sim = await startSimulator({ certificates, auth: { basic: [USER] }, requestLogLimit: 100 });
  await sim.warmed;
  const origin = new URL(sim.url).origin;
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  const pageUrl = (page: number) =>
    `${new URL(sim.url).pathname}/Certificates?PageReturned=${page}&ReturnLimit=${pageSize}&SortField=Id&SortAscending=0` +
    '&IncludeRevoked=true&IncludeExpired=true&includeLocations=true&includeMetadata=true&includeHasPrivateKey=true';

  // The same pages the client asks for, fetched and thrown away: what HTTP alone costs on this machine.
  const rawPass = async (): Promise<Pass> => {
    const started = performance.now();
    let requests = 0;
    let bytes = 0;
    // Same stopping rule as the client: the page that reaches x-total-count is the last.
    for (let page = 1; ; page += 1) {
      const response = await pool.request({ method: 'GET', path: pageUrl(page), headers: HEADERS });
      const text = await response.body.text();
      requests += 1;
      bytes += text.length;
      if (text === '[]' || page * pageSize >= Number(response.headers['x-total-count'])) break;
    }
    return {
      seconds: (performance.now() - started) / 1000,
      certificates: certificates.length,
      requests,
      bytes,
    };
  };

  const clientPass = async (): Promise<Pass> => {
    const client = new CommandClient({
      baseUrl: sim.url,
      auth: new BasicAuth(USER.username, USER.password),
      pageSize,
    });
    const started = performance.now();
    let count = 0;
    for await (const page of client.certificatePages())
      count += page.certificates.length + page.rejected.length;
    return {
      seconds: (performance.now() - started) / 1000,
      certificates: count,
      requests: client.stats.requests,
      bytes: 0,
    };
  };

  try {
    await rawPass(); // warm-up: connection, JIT, simulator result cache
    await clientPass();
    const raw: Pass[] = [];
    const viaClient: Pass[] = [];
    for (let i = 0; i < runs; i += 1) {
      raw.push(await rawPass());
      viaClient.push(await clientPass());
    }
    const rawSeconds = median(raw.map((p) => p.seconds));
    const clientSeconds = median(viaClient.map((p) => p.seconds));
    const n = certificates.length;
    const row = (name: string, seconds: number, pass: Pass): Row => ({
      path: name,
      certificates: pass.certificates,
      requests: pass.requests,
      'median s': Number(seconds.toFixed(3)),
      'pages/s': Math.round(pass.requests / seconds),
      'certs/s': Math.round(n / seconds),
      'µs/cert': Number(((seconds * 1e6) / n).toFixed(1)),
      'vs raw': Number((seconds / rawSeconds).toFixed(2)),
    });
    const rawFirst = raw[0] as Pass;
    const clientFirst = viaClient[0] as Pass;
    return [
      {
        ...row('raw HTTP (undici, body discarded)', rawSeconds, rawFirst),
        'MiB/page': Number((rawFirst.bytes / rawFirst.requests / 2 ** 20).toFixed(2)),
      },
      {
        ...row('CommandClient (parse + validate)', clientSeconds, clientFirst),
        'client overhead µs/cert': Number((((clientSeconds - rawSeconds) * 1e6) / n).toFixed(1)),
      },
    ];
  } finally {
    await pool.close();
    await sim.close();
  }
}

// The baseline of the scan benchmarks: the certificate requests a scan made, re-sent raw from the simulator's log.
import { Pool } from 'undici';
import type { RunningSimulator } from '#shared/simulator/server';

export const BENCH_USER = { username: 'bench', password: 'bench-password' };

const HEADERS = {
  authorization: `Basic ${Buffer.from(`${BENCH_USER.username}:${BENCH_USER.password}`).toString('base64')}`,
  accept: 'application/json',
  'x-keyfactor-requested-with': 'APIClient',
};

/** Re-sends the GET /Certificates requests logged after `fromSeq`, `concurrency` at a time, bodies discarded. */
export async function replayCertificateRequests(
  sim: RunningSimulator,
  fromSeq: number,
  concurrency: number,
): Promise<{ seconds: number; requests: number }> {
  const entries = sim.requestLog
    .entries()
    .filter((e) => e.seq > fromSeq && e.route === '/Certificates' && e.status === 200);
  const basePath = new URL(sim.url).pathname;
  const pool = new Pool(sim.origin, { connections: concurrency });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const entry = entries[next++];
      if (!entry) break;
      const response = await pool.request({
        method: 'GET',
        path: `${basePath}${entry.path}?${entry.rawQuery}`,
        headers: HEADERS,
      });
      await response.body.text();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { seconds, requests: entries.length };
}

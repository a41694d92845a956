// Parallel generation on worker threads. Signing (mostly RSA-2048 by the issuing CA) is CPU-bound and
// single-threaded, so a 2-core machine roughly doubles throughput by splitting the Id range into chunks.
// Output is byte-identical to the sequential generator because certificate N depends only on the options and N.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { CommandCertificate } from '#shared/keyfactor/model';
import { checkGenerateOptions } from './index';
import type { GenerateOptions, GenerationRate } from './index';
import type { WorkerReply, WorkerSetup } from './worker';

export interface ParallelOptions {
  /** Worker threads; default os.availableParallelism(). */
  workers?: number;
  /** Certificates per message; larger chunks cost less messaging, smaller ones start streaming sooner. */
  chunkSize?: number;
}

// Workers start without the parent's loader hooks (vitest, tsx register()), so each one registers tsx itself
// before importing the TypeScript worker module.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((tsx) => { tsx.register(); return import(workerData.workerModule); })
  .catch((error) => { setImmediate(() => { throw error; }); });
`;

/** The ESM entry of tsx's register() API, found through tsx's own package exports (its CJS build cannot register). */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const entry = z
    .object({ exports: z.object({ './esm/api': z.object({ import: z.object({ default: z.string() }) }) }) })
    .parse(manifest).exports['./esm/api'].import.default;
  return pathToFileURL(join(dirname(manifestPath), entry)).href;
}

interface Deferred {
  promise: Promise<string>;
  resolve(text: string): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve: (text: string) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<string>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // Chunks that fail before anyone awaits them must not surface as unhandled rejections.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** JSONL text blocks (each a whole number of lines) in Id order, generated on worker threads. */
export async function* generateJsonLinesParallel(
  options: GenerateOptions,
  parallel: ParallelOptions = {},
): AsyncGenerator<string> {
  checkGenerateOptions(options);
  const chunkSize = parallel.chunkSize ?? 250;
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new RangeError('chunkSize must be a positive integer');
  const chunkCount = Math.ceil(options.count / chunkSize);
  if (chunkCount === 0) return;
  const workerCount = Math.max(1, Math.min(parallel.workers ?? availableParallelism(), chunkCount));
  const setup: WorkerSetup & { tsxApi: string; workerModule: string } = {
    options,
    chunkSize,
    tsxApi: tsxEsmApiUrl(),
    workerModule: new URL('./worker.ts', import.meta.url).href,
  };
  const pending = new Map<number, Deferred>();
  const failAll = (error: Error): void => {
    for (const waiting of pending.values()) waiting.reject(error);
  };
  const workers = Array.from({ length: workerCount }, () => {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: setup, execArgv: [] });
    worker.on('message', (reply: WorkerReply) => {
      const waiting = pending.get(reply.chunk);
      if (!waiting) return;
      if ('error' in reply)
        waiting.reject(new Error(`generator worker failed on chunk ${reply.chunk}: ${reply.error}`));
      else waiting.resolve(reply.text);
    });
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`generator worker exited with code ${code}`)));
    return worker;
  });
  const request = (chunk: number): void => {
    pending.set(chunk, deferred());
    workers[chunk % workerCount]?.postMessage({ chunk });
  };
  // Bounded read-ahead: memory stays flat however many certificates are requested.
  const readAhead = workerCount * 3;
  let nextToRequest = 0;
  for (; nextToRequest < Math.min(readAhead, chunkCount); nextToRequest++) request(nextToRequest);
  try {
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      const waiting = pending.get(chunk);
      if (!waiting) throw new Error(`chunk ${chunk} was never requested`);
      const text = await waiting.promise;
      pending.delete(chunk);
      if (nextToRequest < chunkCount) request(nextToRequest++);
      yield text;
    }
  } finally {
    pending.clear();
    await Promise.all(workers.map((worker) => worker.removeAllListeners('exit').terminate()));
  }
}

/** Command certificate objects in Id order, generated on worker threads. */
export async function* generateCertificatesParallel(
  options: GenerateOptions,
  parallel: ParallelOptions = {},
): AsyncGenerator<CommandCertificate> {
  for await (const block of generateJsonLinesParallel(options, parallel)) {
    for (const line of block.split('\n')) {
      if (line) yield JSON.parse(line) as CommandCertificate;
    }
  }
}

/** Wall-clock rate of parallel generation to JSONL text (worker start-up included, since callers pay it too). */
export async function measureParallelGenerationRate(
  options: GenerateOptions,
  parallel: ParallelOptions = {},
): Promise<GenerationRate> {
  const started = process.hrtime.bigint();
  let lines = 0;
  for await (const block of generateJsonLinesParallel(options, parallel)) {
    for (let at = block.indexOf('\n'); at !== -1; at = block.indexOf('\n', at + 1)) lines++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { count: lines, seconds, certificatesPerSecond: seconds > 0 ? lines / seconds : Infinity };
}

// Body of a generation worker thread: answers "chunk N" requests with that chunk's JSONL text.
import { parentPort, workerData } from 'node:worker_threads';
import { generateJsonLines } from './index';
import type { GenerateOptions } from './index';

export interface WorkerSetup {
  options: GenerateOptions;
  chunkSize: number;
}

export type WorkerReply = { chunk: number; text: string } | { chunk: number; error: string };

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');

port.on('message', (message: { chunk: number }) => {
  const { chunk } = message;
  let reply: WorkerReply;
  try {
    const from = chunk * setup.chunkSize;
    reply = { chunk, text: generateJsonLines(setup.options, from, from + setup.chunkSize) };
  } catch (error) {
    reply = { chunk, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});

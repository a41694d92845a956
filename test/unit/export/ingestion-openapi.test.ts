// docs/ingestion.openapi.json must stay valid and match what the client sends and the receiver answers.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENSOR_TYPE } from '#shared/findings/index';
import {
  BATCH_ID_PATTERN,
  INGESTION_BATCH_KINDS,
  INGESTION_CONTENT_TYPE,
  ingestionHeaders,
  type IngestionBatch,
} from '#shared/export/ingestion';
import {
  INGESTION_PATH,
  startIngestionReceiver,
  type IngestionReceiver,
} from '#shared/simulator/ingestion-receiver';
import { arrayBufferView } from '#shared/bytes';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: { const?: string; enum?: string[]; pattern?: string };
}
interface Operation {
  parameters: Parameter[];
  requestBody: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
}
const spec = JSON.parse(
  readFileSync(new URL('../../../docs/ingestion.openapi.json', import.meta.url), 'utf8'),
) as {
  paths: Record<string, { post: Operation }>;
  components: { securitySchemes: Record<string, { scheme?: string }> };
};
const operation = spec.paths[INGESTION_PATH]?.post as Operation;
const TOKEN = 'spec-token';
const batch: IngestionBatch = {
  batchId: 'scan-1.r1-2.1',
  scanId: 'scan-1',
  kind: 'findings',
  count: 1,
  body: gzipSync('{"id":"a"}\n'),
};
const sensor = { name: 'n', version: '1', ranBy: 'r', labels: [] };
const headerParameters = (): Parameter[] => operation.parameters.filter((p) => p.in === 'header');
const param = (name: string): Parameter => {
  const found = headerParameters().find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new Error(`no parameter ${name}`);
  return found;
};

describe('docs/ingestion.openapi.json', () => {
  it('is a valid OpenAPI 3.1 document with a bearer scheme', async () => {
    const result = await validate(structuredClone(spec) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    expect(Object.values(spec.components.securitySchemes).map((s) => s.scheme)).toEqual(['bearer']);
    expect(Object.keys(operation.requestBody.content)).toEqual([INGESTION_CONTENT_TYPE]);
  });

  it('documents exactly the headers the client sends (Content-Type and Authorization are covered elsewhere)', () => {
    const sent = Object.keys(ingestionHeaders(batch, sensor, TOKEN))
      .map((h) => h.toLowerCase())
      .filter((h) => h !== 'content-type' && h !== 'authorization')
      .sort();
    const documented = headerParameters()
      .map((p) => p.name.toLowerCase())
      .sort();
    expect(documented).toEqual(sent);
    expect(headerParameters().every((p) => p.required === true)).toBe(true);
  });

  it('its header schemas agree with the implementation', () => {
    expect(param('X-Batch-Kind').schema.enum).toEqual([...INGESTION_BATCH_KINDS]);
    expect(param('X-Sensor-Type').schema.const).toBe(SENSOR_TYPE);
    expect(param('X-Batch-Id').schema.pattern).toBe(BATCH_ID_PATTERN.source);
    expect(param('X-Scan-Id').schema.pattern).toBe(BATCH_ID_PATTERN.source);
    expect(param('Content-Encoding').schema.const).toBe('gzip');
  });

  describe('responses match what the receiver answers', () => {
    let receiver: IngestionReceiver;
    const seen = new Set<number>();
    beforeAll(async () => {
      receiver = await startIngestionReceiver({ token: TOKEN, maxBodyBytes: 64 });
    });
    afterAll(() => receiver.stop());

    const post = async (headers: Record<string, string>, body: Uint8Array = batch.body): Promise<number> => {
      const response = await fetch(receiver.url, { method: 'POST', headers, body: arrayBufferView(body) });
      await response.text();
      seen.add(response.status);
      return response.status;
    };

    it('each status the receiver produces is documented, and each documented one is produced', async () => {
      const good = ingestionHeaders(batch, sensor, TOKEN);
      expect(await post(good)).toBe(202);
      expect(await post(good)).toBe(409);
      expect(await post({ ...good, Authorization: 'Bearer nope' })).toBe(401);
      expect(await post({ ...good, 'X-Record-Count': 'x' })).toBe(400);
      expect(await post({ ...good, 'Content-Type': 'application/json' })).toBe(415);
      expect(
        await post(
          { ...good, 'X-Batch-Id': 'scan-1.big', 'Idempotency-Key': 'scan-1.big' },
          gzipSync('x'.repeat(100_000) + Math.random()),
        ),
      ).toBe(413);
      receiver.setFaults({ failFirst: 3, kinds: ['429', '500', '503'], seed: 3 });
      for (let i = 0; i < 3; i++) await post(good);
      receiver.setFaults(null);
      expect([...seen].sort()).toEqual(Object.keys(operation.responses).map(Number).sort());
    });
  });
});

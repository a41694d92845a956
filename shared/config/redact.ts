// What --print-config shows: the loaded config with every secret replaced, so it can be pasted into a support ticket.
import type { RemoteScanConfig } from './types';

export const REDACTED = '***';

/** Keys whose values are credentials, wherever they appear (the typed config's names and the YAML's). */
const SECRET_KEYS = new Set([
  'password',
  'clientSecret',
  'client_secret',
  'token',
  'secret',
  'apiKey',
  'api_key',
]);

/** A deep copy with passwords, client secrets and tokens replaced by "***" (an absent optional secret stays null). */
export function redactConfig(config: RemoteScanConfig): RemoteScanConfig {
  return redactValue(config) as RemoteScanConfig;
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key) && v !== null && v !== undefined ? REDACTED : redactValue(v);
  }
  return out;
}

// The logger port the core writes to: structured fields, never secrets (callers pass no credentials; redact() guards).
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|credential/i;

/** Replaces the values of secret-looking keys, at any depth, so a careless field cannot leak a credential. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEY.test(key)) out[key] = '[redacted]';
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      out[key] = redact(value as LogFields);
    else out[key] = value;
  }
  return out;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One JSON line per event on stderr, so stdout stays free for command output. */
export function jsonLogger(
  options: { level?: 'debug' | 'info' | 'warn' | 'error'; service?: string } = {},
): Logger {
  const order = { debug: 10, info: 20, warn: 30, error: 40 } as const;
  const threshold = order[options.level ?? 'info'];
  const write = (level: keyof typeof order, message: string, fields?: LogFields): void => {
    if (order[level] < threshold) return;
    const line = {
      time: new Date().toISOString(),
      level,
      service: options.service,
      message,
      ...redact(fields ?? {}),
    };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

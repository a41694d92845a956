// Text log lines for a human reading stderr (`time level message key=value ...`); --log-format json uses jsonLogger.
import { redact, type LogFields, type Logger } from '#shared/logging';
import { terminalSafe } from '#shared/export/index';

const ORDER = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof ORDER;

function formatValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Values can carry certificate text or server messages: no terminal control characters, quoted when spaced.
  const safe = terminalSafe(text ?? 'undefined');
  return /[\s"=]/.test(safe) ? JSON.stringify(safe) : safe;
}

export function textLogger(options: {
  level?: LogLevel;
  write?: (line: string) => void;
  /** Called before each line (the progress display clears its line). */
  beforeWrite?: () => void;
}): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const out = options.write ?? ((line: string) => process.stderr.write(line));
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (ORDER[level] < threshold) return;
    const pairs = Object.entries(redact(fields ?? {}))
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`);
    options.beforeWrite?.();
    out(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${terminalSafe(message)}${pairs.length ? ` ${pairs.join(' ')}` : ''}\n`,
    );
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

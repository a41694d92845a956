// A logger for tests that keeps the warnings it is given (message and fields) and drops everything else.
import type { Logger, LogFields } from '#shared/logging';

export interface RecordedWarning {
  message: string;
  fields?: LogFields;
}

export function recordingLogger(): Logger & { warnings: RecordedWarning[] } {
  const warnings: RecordedWarning[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    error() {},
    warn(message, fields) {
      warnings.push(fields ? { message, fields } : { message });
    },
  };
}

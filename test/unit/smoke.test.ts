import { describe, expect, it } from 'vitest';
import { SensorError, InputError } from '#shared/errors';

describe('SensorError', () => {
  it('names subclasses after themselves and keeps the cause', () => {
    const cause = new Error('root');
    const err = new InputError('bad', { cause });
    expect(err).toBeInstanceOf(SensorError);
    expect(err.name).toBe('InputError');
    expect(err.cause).toBe(cause);
  });
});

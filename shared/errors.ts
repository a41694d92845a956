// One error taxonomy: every error the sensor raises on purpose extends SensorError, names itself and keeps its cause.

export class SensorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The user's input (config, query filter, request body) is wrong; the message says what to fix. */
export class InputError extends SensorError {}

// In-memory Scheduler: records the timers EventBridge Scheduler would hold.
import type { Schedule } from '#shared/scan/model';
import type { Scheduler } from '#shared/scan/ports';

export class MemoryScheduler implements Scheduler {
  readonly schedules = new Map<string, Schedule>();

  async create(schedule: Schedule): Promise<void> {
    await Promise.resolve();
    this.schedules.set(schedule.scheduleId, structuredClone(schedule));
  }

  async delete(scheduleId: string): Promise<void> {
    await Promise.resolve();
    this.schedules.delete(scheduleId);
  }
}

// EventBridge Scheduler: one schedule per sensor schedule, in the deployment's group, sending a start message to SQS.
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SensorError } from '#shared/errors';
import type { Schedule } from '#shared/scan/model';
import type { Scheduler } from '#shared/scan/ports';

export interface EventBridgeSchedulerOptions {
  groupName: string;
  /** The start queue's ARN: the schedule's SQS target. */
  startQueueArn: string;
  /** The role Scheduler assumes to send to the start queue (sqs:SendMessage on it only). */
  roleArn: string;
}

/** What a schedule sends to the start queue; the collector starts a scan from the stored definition. */
export interface ScheduleStartMessage {
  type: 'schedule';
  scheduleId: string;
}

export class ScheduleError extends SensorError {}

/** Scheduler's rule for schedule names; the schedule id is used as the name, so it must fit. */
const SCHEDULE_NAME = /^[0-9a-zA-Z._-]{1,64}$/;

export class EventBridgeScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: EventBridgeSchedulerOptions,
  ) {}

  async create(schedule: Schedule): Promise<void> {
    const input = this.inputOf(schedule);
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      // A retried create (the API call repeated after a timeout) makes the same schedule: update it in place.
      if (!(error instanceof ConflictException)) throw error;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async delete(scheduleId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteScheduleCommand({ Name: checkedName(scheduleId), GroupName: this.options.groupName }),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }

  private inputOf(schedule: Schedule): CreateScheduleCommandInput {
    const message: ScheduleStartMessage = { type: 'schedule', scheduleId: schedule.scheduleId };
    return {
      Name: checkedName(schedule.scheduleId),
      GroupName: this.options.groupName,
      Description: `Keyfactor Command sensor scan: ${schedule.name}`.slice(0, 512),
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      // Scans should start when asked; spreading them is the page queues' job, not the timer's.
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: schedule.enabled ? 'ENABLED' : 'DISABLED',
      Target: {
        Arn: this.options.startQueueArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify(message),
        // A missed start is retried for up to an hour; later, the next occurrence is the better scan.
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
      },
    };
  }
}

function checkedName(scheduleId: string): string {
  if (!SCHEDULE_NAME.test(scheduleId))
    throw new ScheduleError(
      `schedule id "${scheduleId}" is not a valid EventBridge Scheduler name ([0-9a-zA-Z._-]{1,64})`,
    );
  return scheduleId;
}

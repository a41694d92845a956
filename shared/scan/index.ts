// Public surface of the scan engine (the core: no AWS imports; adapters implement ./ports.ts).
export * from './model.ts';
export * from './ports.ts';
export * from './deps.ts';
export * from './errors.ts';
export {
  canonicalFilter,
  findingContentHash,
  newScanId,
  normaliseCommandUrl,
  sensorKey,
  taskIdFor,
} from './keys.ts';
export {
  advancedCursor,
  chooseScanMode,
  composeScanQuery,
  incrementalCondition,
  pageTasksFor,
  rangePageQuery,
  rangesOf,
  splitIdRange,
  type IdRange,
  type ScanQuery,
} from './plan.ts';
export {
  MAX_BATCH_BODY_BYTES,
  batchIdFor,
  buildExportBatches,
  readBatchRecords,
  type BatchLimits,
} from './export-batches.ts';
export { learnBounds, planScan, type PlanAction, type PlanOutcome } from './collector.ts';
export {
  LEASE_TTL_SECONDS,
  processPageTask,
  type PageTaskAction,
  type PageTaskResult,
  type PageWorkerOptions,
} from './page-worker.ts';
export { allPagesSettled, endStateOf, finalizeScan, finishedEventDetail } from './finalizer.ts';
export {
  DEFAULT_HOST_CONCURRENCY,
  authMethodOf,
  createScanApi,
  validateScanInput,
  validateScheduleExpression,
} from './service.ts';

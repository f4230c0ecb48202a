/** Pure: every container image reference in a resource's properties, with where it sits. */
export * from './types';
export { scanWorkload, opaqueWorkloadReason, describe, formatPath, isRecord, MAX_SCAN_DEPTH } from './scan';
export { isUnknownValue, rawProperties } from './unknown';
export { setAtPath } from './rewrite';

/** Pure: every container image reference in a resource's properties, with where it sits. */
export * from './types';
export { scanWorkload, opaqueWorkloadReason } from './scan';
export type { NotImageProperty } from './not-image';
export { describe, formatPath, isRecord } from './values';
export { MAX_SCAN_DEPTH, MAX_SCAN_VALUES } from './search';
export { isUnknownValue, rawProperties } from './unknown';
export { setAtPath } from './rewrite';

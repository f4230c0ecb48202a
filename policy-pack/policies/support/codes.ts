import type { VerificationCode } from '../../supply-chain/types';

/**
 * The pack's diagnostic codes (one union for the policy layer): the verification layer's codes pass
 * through unchanged; the rest are the pack's own.
 */
export type PackDiagnosticCode =
  | VerificationCode
  /** A value needed for the check is unknown during preview; it is checked at update. */
  | 'VALUE_UNKNOWN'
  /** The workload's containers cannot be read (wrong type, missing spec, absurd nesting). */
  | 'WORKLOAD_UNREADABLE'
  | 'IMAGE_MISSING'
  | 'IMAGE_INVALID'
  /** A resource deploys workloads the pack cannot see (helm.sh/v3 Release). */
  | 'WORKLOADS_HIDDEN'
  | 'CONFIG_INVALID'
  | 'TRUST_POLICY_MISSING'
  | 'NOT_PINNED'
  | 'REGISTRY_NOT_ALLOWED'
  /** An infrastructure setting differs from what the policy requires. */
  | 'SETTING_REQUIRED'
  | 'CONFIDENTIAL_TYPE_NOT_ALLOWED'
  | 'MACHINE_TYPE_UNSUPPORTED'
  /** A node location that the machine table does not list for the technology on that machine shape. */
  | 'ZONE_UNSUPPORTED'
  /** Binary Authorization enforces a project policy that allows every image, or none that the pack can see. */
  | 'BINARY_AUTHORIZATION_NOT_ENFORCING'
  | 'ADMISSION_CONTROL_MISSING'
  | 'NOT_SCHEDULED_ON_CONFIDENTIAL_NODES';

/** Public types of the analyzer harness: plain data, independent of the generated protobuf classes. */

export type EnforcementLevel = 'advisory' | 'mandatory' | 'disabled' | 'remediate';
export type PolicySeverity = 'unspecified' | 'low' | 'medium' | 'high' | 'critical';

/** The pack's config as `pulumi up --policy-pack-config FILE` reads it: a level, or an object with one. */
export type PolicyConfigEntry =
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
export type PackConfig = Record<string, PolicyConfigEntry>;

export interface PolicyConfigSchema {
  properties: Record<string, unknown>;
  required: string[];
}

export interface PolicyInfo {
  name: string;
  displayName: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  kind: 'resource' | 'stack' | 'unspecified';
  configSchema?: PolicyConfigSchema;
}

export interface AnalyzerInfo {
  name: string;
  displayName: string;
  version: string;
  supportsConfig: boolean;
  policies: PolicyInfo[];
  /** Defaults the pack declares (`new PolicyPack(name, args, initialConfig)`), normalised. */
  initialConfig: Record<
    string,
    { enforcementLevel?: EnforcementLevel; properties?: Record<string, unknown> }
  >;
}

export interface ProviderReference {
  type: string;
  name: string;
  urn?: string;
  properties?: Record<string, unknown>;
}

export interface ResourceOptions {
  protect?: boolean;
  ignoreChanges?: string[];
  deleteBeforeReplace?: boolean;
  additionalSecretOutputs?: string[];
  aliases?: string[];
  parent?: string;
  customTimeouts?: { create?: number; update?: number; delete?: number };
}

/** One resource as the engine describes it to an analyzer. Properties are inputs (Analyze) or outputs (AnalyzeStack). */
export interface ResourceInput {
  /** Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  name: string;
  properties: Record<string, unknown>;
  /** Default: built like the engine does from stack, project, parent type chain, type and name. */
  urn?: string;
  /** URN of the parent resource (also sent in options.parent, as the engine does). */
  parent?: string;
  /** Type of the parent, used to build the default URN's qualified type (`parentType$type`). */
  parentType?: string;
  provider?: ProviderReference;
  options?: ResourceOptions;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

/**
 * A resource already encoded as the engine's AnalyzeRequest. The engine marshals a resource in Go, at a
 * cost the pack never sees; a caller that sends one resource to Remediate and Analyze (or many times)
 * prepares it once so the harness's own encoding is not counted as the pack's time.
 */
export interface PreparedResource {
  readonly resource: ResourceInput;
  /** The serialized `pulumirpc.AnalyzeRequest`. */
  readonly request: Uint8Array;
}

export interface Diagnostic {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  description: string;
  message: string;
  enforcementLevel: EnforcementLevel;
  urn?: string;
  severity: PolicySeverity;
}

export interface NotApplicable {
  policyName: string;
  reason: string;
}

export interface AnalyzeResult {
  diagnostics: Diagnostic[];
  notApplicable: NotApplicable[];
}

export interface Remediation {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  description: string;
  /** The rewritten properties, when the policy changed the resource. */
  properties?: Record<string, unknown>;
  /** Why the policy could not remediate (e.g. an unknown value during preview). */
  diagnostic?: string;
}

export interface RemediateResult {
  remediations: Remediation[];
  notApplicable: NotApplicable[];
}

export interface StackContext {
  project: string;
  stack: string;
  organization: string;
  /** True for `pulumi preview`. Sent through ConfigureStack, like the engine. */
  dryRun: boolean;
  tags?: Record<string, string>;
}

import * as analyzerPb from '@pulumi/pulumi/proto/analyzer_pb';
import { Struct, Value, ListValue, NullValue } from 'google-protobuf/google/protobuf/struct_pb';
import { AnalyzerError } from './errors';
import type { EnforcementLevel, PolicySeverity } from './types';

/**
 * Conversions between plain data and the wire forms the engine uses. The sentinels are the engine's own
 * (sdk/go/common/resource/plugin: UnknownStringValue, the secret signature), so a pack sees exactly what
 * `pulumi preview` would send.
 */

/** What the engine sends for a value that is unknown during preview. */
export const UNKNOWN_WIRE_VALUE = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
const SIGNATURE_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIGNATURE = '1b47061264138c4ac30d75fd1eb44270';

class UnknownValue {
  readonly unknown = true;
}
class SecretValue {
  constructor(readonly value: unknown) {}
}

/** A property value that is unknown during preview (a computed output of another resource). */
export const UNKNOWN: unknown = new UnknownValue();
/** A property value marked secret. */
export function secret(value: unknown): unknown {
  return new SecretValue(value);
}

/** Deepest nesting sent: measured, google-protobuf 3.21 round-trips 1000 levels and overflows at 1500. */
export const MAX_NESTING = 1000;

/**
 * Builds a protobuf Value without recursion, so deeply nested properties (garbage tests) cannot
 * overflow the harness's stack before they reach the pack.
 */
export function toValue(input: unknown): Value {
  const root = new Value();
  const work: { value: unknown; target: Value; path: string; depth: number }[] = [
    { value: input, target: root, path: '', depth: 0 },
  ];
  while (work.length > 0) {
    const { value, target, path, depth } = work.pop()!;
    if (depth > MAX_NESTING) {
      throw new AnalyzerError(
        'INVALID_RESOURCE',
        `properties nest deeper than ${MAX_NESTING} levels (at ${path.slice(0, 60)}...): google-protobuf's encoder and decoder recurse per level and would overflow the stack`,
      );
    }
    if (value instanceof UnknownValue) {
      target.setStringValue(UNKNOWN_WIRE_VALUE);
    } else if (value instanceof SecretValue) {
      const wrapper = new Struct();
      const sig = new Value();
      sig.setStringValue(SECRET_SIGNATURE);
      wrapper.getFieldsMap().set(SIGNATURE_KEY, sig);
      const inner = new Value();
      wrapper.getFieldsMap().set('value', inner);
      target.setStructValue(wrapper);
      work.push({ value: value.value, target: inner, path: `${path}.value`, depth: depth + 1 });
    } else if (value === null) {
      target.setNullValue(NullValue.NULL_VALUE);
    } else if (typeof value === 'string') {
      target.setStringValue(value);
    } else if (typeof value === 'number') {
      target.setNumberValue(value);
    } else if (typeof value === 'boolean') {
      target.setBoolValue(value);
    } else if (Array.isArray(value)) {
      const list = new ListValue();
      const items = value.map(() => new Value());
      list.setValuesList(items);
      target.setListValue(list);
      value.forEach((v: unknown, i) =>
        work.push({ value: v, target: items[i]!, path: `${path}[${i}]`, depth: depth + 1 }),
      );
    } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const struct = new Struct();
      const fields = struct.getFieldsMap();
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        const child = new Value();
        fields.set(k, child);
        work.push({ value: v, target: child, path: `${path}.${k}`, depth: depth + 1 });
      }
      target.setStructValue(struct);
    } else {
      throw new AnalyzerError(
        'INVALID_RESOURCE',
        `property ${path || '(root)'} is a ${typeof value}: only JSON values, UNKNOWN and secret() can be sent`,
      );
    }
  }
  return root;
}

export function toStruct(properties: Record<string, unknown>): Struct {
  const value = toValue(properties);
  const struct = value.getStructValue();
  if (!struct) throw new AnalyzerError('INVALID_RESOURCE', 'resource properties must be an object');
  return struct;
}

const LEVELS: Record<number, EnforcementLevel> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: 'advisory',
  [analyzerPb.EnforcementLevel.MANDATORY]: 'mandatory',
  [analyzerPb.EnforcementLevel.DISABLED]: 'disabled',
  [analyzerPb.EnforcementLevel.REMEDIATE]: 'remediate',
};

export function levelFromWire(level: number): EnforcementLevel {
  const named = LEVELS[level];
  if (!named) throw new AnalyzerError('RPC_FAILED', `the pack sent an unknown enforcement level ${level}`);
  return named;
}

export function levelToWire(level: EnforcementLevel): analyzerPb.EnforcementLevel {
  switch (level) {
    case 'advisory':
      return analyzerPb.EnforcementLevel.ADVISORY;
    case 'mandatory':
      return analyzerPb.EnforcementLevel.MANDATORY;
    case 'disabled':
      return analyzerPb.EnforcementLevel.DISABLED;
    case 'remediate':
      return analyzerPb.EnforcementLevel.REMEDIATE;
  }
}

export function severityFromWire(severity: number): PolicySeverity {
  switch (severity) {
    case analyzerPb.PolicySeverity.POLICY_SEVERITY_LOW:
      return 'low';
    case analyzerPb.PolicySeverity.POLICY_SEVERITY_MEDIUM:
      return 'medium';
    case analyzerPb.PolicySeverity.POLICY_SEVERITY_HIGH:
      return 'high';
    case analyzerPb.PolicySeverity.POLICY_SEVERITY_CRITICAL:
      return 'critical';
    default:
      return 'unspecified';
  }
}

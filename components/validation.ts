import * as pulumi from '@pulumi/pulumi';

/** One problem with a component's arguments: the property path and what is wrong with it. */
export interface ArgsProblem {
  propertyPath: string;
  reason: string;
}

/**
 * Collects every problem with a component's arguments so that the user sees all of them in one run,
 * then throws a single `pulumi.InputPropertiesError` (which the engine prints per property).
 */
export class ArgsProblems {
  private readonly problems: ArgsProblem[] = [];

  add(propertyPath: string, reason: string): void {
    this.problems.push({ propertyPath, reason });
  }

  /**
   * Settings a component fixes for security (DESIGN.md convention 7): any value given for one of them, even
   * one equal to the fixed value, is a problem naming it, so a stray argument cannot weaken the component.
   */
  rejectFixed(args: object, settings: readonly string[], fixedBy: string): void {
    const given = args as Record<string, unknown>;
    for (const setting of settings) {
      if (given[setting] !== undefined) this.add(setting, `is fixed by ${fixedBy} and cannot be set`);
    }
  }

  get list(): readonly ArgsProblem[] {
    return this.problems;
  }

  /** Throws when any problem was recorded; `component` names the component type in the message. */
  throwIfAny(component: string): void {
    if (this.problems.length === 0) return;
    throw new pulumi.InputPropertiesError({
      message: `${component}: ${this.problems.length} invalid argument(s): ${this.problems
        .map((p) => `${p.propertyPath}: ${p.reason}`)
        .join('; ')}`,
      errors: [...this.problems],
    });
  }
}

/**
 * The plain value of an input when it is known at construction time, else undefined. Validation checks
 * what it can see now; values that are Outputs are checked by the resources that receive them.
 */
export function known<T>(value: pulumi.Input<T> | undefined): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (pulumi.Output.isInstance(value)) return undefined;
  if (value instanceof Promise) return undefined;
  return value as T;
}

/** Canonical `sha256:<64 hex>` digest, the only pinning the components accept for images. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** An image reference pinned by digest: `registry/repo@sha256:<hex>` (a tag before `@` is tolerated). */
export const DIGEST_PINNED_IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)+(?::[\w][\w.-]{0,127})?@sha256:[a-f0-9]{64}$/;

/** Kubernetes DNS-1123 label (names of namespaces, service accounts, ...). */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

import type { ResourceValidation } from '@pulumi/policy';

/**
 * Marks a validation as applying to one resource type, the way @pulumi/policy's validateResourceOfType
 * does (a `__pulumiType` on the function): the server then skips other resources without deserializing
 * their properties and reports them not applicable. Done by type token so the pack needs no provider SDK.
 */
export function ofType(type: string, validate: ResourceValidation): ResourceValidation {
  return Object.assign(validate, { __pulumiType: type });
}

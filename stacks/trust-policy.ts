import { PackConfigError, readPackTrustPolicy } from '../policy-pack/config';
import type { ResolvedTrustPolicy } from '../policy-pack/supply-chain/trust-policy';
import { StackError } from './errors';

/**
 * The trust policy the pack enforces, read from the pack's own config file (`trusted-images.trustPolicy`)
 * by the pack's own reader (policy-pack/config.ts), so the Kyverno admission policy is rendered from
 * exactly the document the pack checks at deploy time, its key files resolved against the same folder
 * (`trustPolicyBaseDir`, relative to the pack folder `packDir`).
 */
export function trustPolicyFromPackConfig(configFile: string, packDir: string): ResolvedTrustPolicy {
  try {
    return readPackTrustPolicy(configFile, packDir);
  } catch (e) {
    if (e instanceof PackConfigError && e.code === 'TRUST_POLICY_MISSING') {
      throw new StackError('TRUST_POLICY_MISSING', e.message);
    }
    throw e;
  }
}

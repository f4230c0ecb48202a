import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { EXIT, UsageError } from '../exit-codes';
import {
  assertStatementSubject,
  createBundleVerifier,
  embeddedPublicGoodRoot,
  loadTrustedRoot,
  SignatureError,
  type ResolvedSigner,
  type TrustedRootMaterial,
} from '../../policy-pack/supply-chain/sigstore';
import { anchoredPatternProblem } from '../../policy-pack/supply-chain/anchored-regexp';
import type { KeylessSigner } from '../../policy-pack/supply-chain/types';

/**
 * `trustops verify-bundle`: the sigstore-conformance CLI protocol (docs/cli_protocol.md), verify side:
 *
 *   verify-bundle [--staging] --bundle FILE
 *     [--certificate-identity IDENTITY --certificate-oidc-issuer URL | --key FILE]
 *     [--trusted-root FILE] FILE_OR_DIGEST
 *
 * Exit 0 when the bundle verifies, 1 when it does not, 2 on usage errors. As in cosign, the identity is
 * `--certificate-identity` (exact SAN) or `--certificate-identity-regexp`, the issuer
 * `--certificate-oidc-issuer` (exact) or `--certificate-oidc-issuer-regexp`; patterns are RE2, anchored
 * (the trust policy's `subjectRegExp` / `issuerRegExp`). `--json` prints the result as JSON.
 */
interface VerifyBundleOptions {
  bundle: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  json?: boolean;
  key?: string;
  trustedRoot?: string;
  staging?: boolean;
}

const SIGNER = 'verify-bundle';

export function register(program: Command, setExit: (code: number) => void): void {
  program
    .command('verify-bundle')
    .description('Verify a Sigstore bundle (sigstore-conformance CLI protocol).')
    .requiredOption('--bundle <file>', 'the Sigstore bundle to verify')
    .option('--certificate-identity <identity>', 'expected SAN of the signing certificate')
    .option('--certificate-identity-regexp <re>', 'RE2 pattern the SAN must match (anchored), instead')
    .option('--certificate-oidc-issuer <url>', 'expected OIDC issuer of the signing certificate')
    .option(
      '--certificate-oidc-issuer-regexp <re>',
      'RE2 pattern the OIDC issuer must match (anchored), instead',
    )
    .option('--key <file>', 'PEM public key to verify with instead of a certificate identity')
    .option('--trusted-root <file>', 'trusted_root.json (default: the embedded Sigstore public-good root)')
    .option(
      '--staging',
      'use the Sigstore staging instance (needs --trusted-root: no staging root is embedded)',
    )
    .option('--json', 'print the result as JSON (verified, identity, issuer, evidence, or the error code)')
    .argument('<FILE_OR_DIGEST>', 'the artifact, or its digest as sha256:<hex>')
    .action((fileOrDigest: string, opts: VerifyBundleOptions) => {
      setExit(verifyBundleCommand(fileOrDigest, opts));
    });
}

export function verifyBundleCommand(fileOrDigest: string, opts: VerifyBundleOptions): number {
  const signer = signerFromOptions(opts);
  const trustedRoot = trustedRootFromOptions(opts);
  const artifact = readArtifact(fileOrDigest);
  const bundleText = readInput(opts.bundle, 'bundle');
  const verifier = configured(() => createBundleVerifier({ trustedRoot, signers: [signer] }));
  try {
    const result = verifier.verify(bundleText, {
      ...(artifact.bytes ? { artifact: artifact.bytes } : { artifactDigest: `sha256:${artifact.sha256}` }),
      allowedSigners: [SIGNER],
    });
    if (result.payloadType !== undefined)
      assertStatementSubject(result.payloadType, result.payload, artifact);
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ verified: true, bundle: opts.bundle, identity: result.identity, evidence: result.evidence }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `OK: ${opts.bundle} verified; signed by ${result.identity}; evidence ${result.evidence.join('+')}\n`,
      );
    }
    return EXIT.OK;
  } catch (e) {
    if (e instanceof SignatureError) {
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ verified: false, bundle: opts.bundle, code: e.code, message: e.message }, null, 2)}\n`,
        );
      } else {
        process.stderr.write(`trustops verify-bundle: FAILED [${e.code}] ${e.message}\n`);
      }
      return EXIT.BLOCKED;
    }
    throw e;
  }
}

function signerFromOptions(opts: VerifyBundleOptions): ResolvedSigner {
  const subjects = [opts.certificateIdentity, opts.certificateIdentityRegexp].filter((x) => x !== undefined);
  const issuers = [opts.certificateOidcIssuer, opts.certificateOidcIssuerRegexp].filter(
    (x) => x !== undefined,
  );
  const identity = subjects.length > 0 || issuers.length > 0;
  if (opts.key !== undefined && identity) {
    throw new UsageError(
      'give either --key or a certificate identity (--certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]), not both',
    );
  }
  if (opts.key !== undefined) {
    // Fail closed like a policy key signer's default: a key signature still needs tlog or TSA evidence.
    return {
      name: SIGNER,
      key: { publicKeyPem: readInput(opts.key, 'key').toString('utf8'), requireTransparencyLog: true },
    };
  }
  if (subjects.length !== 1 || issuers.length !== 1) {
    throw new UsageError(
      subjects.length > 1 || issuers.length > 1
        ? 'give --certificate-identity or --certificate-identity-regexp (not both), and --certificate-oidc-issuer or --certificate-oidc-issuer-regexp (not both)'
        : 'a certificate identity (--certificate-identity or --certificate-identity-regexp) and issuer (--certificate-oidc-issuer or --certificate-oidc-issuer-regexp) are required (or --key)',
    );
  }
  const keyless: KeylessSigner = {
    ...(opts.certificateIdentity !== undefined ? { subject: opts.certificateIdentity } : {}),
    ...(opts.certificateIdentityRegexp !== undefined
      ? { subjectRegExp: opts.certificateIdentityRegexp }
      : {}),
    ...(opts.certificateOidcIssuer !== undefined ? { issuer: opts.certificateOidcIssuer } : {}),
    ...(opts.certificateOidcIssuerRegexp !== undefined
      ? { issuerRegExp: opts.certificateOidcIssuerRegexp }
      : {}),
  };
  for (const [flag, pattern] of [
    ['--certificate-identity-regexp', opts.certificateIdentityRegexp],
    ['--certificate-oidc-issuer-regexp', opts.certificateOidcIssuerRegexp],
  ] as const) {
    const problem = pattern === undefined ? undefined : anchoredPatternProblem(pattern);
    if (problem !== undefined) throw new UsageError(`${flag} ${pattern}: ${problem}`, 'BAD_REGEXP');
  }
  return { name: SIGNER, keyless };
}

function trustedRootFromOptions(opts: VerifyBundleOptions): TrustedRootMaterial {
  if (opts.trustedRoot === undefined) {
    if (opts.staging)
      throw new UsageError('--staging needs --trusted-root: this build embeds only the public-good root');
    return embeddedPublicGoodRoot();
  }
  let json: unknown;
  try {
    json = JSON.parse(readInput(opts.trustedRoot, 'trusted root').toString('utf8'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--trusted-root ${opts.trustedRoot} is not JSON`, 'TRUST_ROOT_INVALID');
  }
  const file = opts.trustedRoot;
  return configured(() => loadTrustedRoot(json, file));
}

/** A bad key or trusted root is the caller's configuration (exit 2), not a failed verification. */
function configured<T>(make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof SignatureError) throw new UsageError(e.message, e.code);
    throw e;
  }
}

/**
 * The protocol: a digest starts with `sha256:`, has 64 hex digits, and is not a path on disk; anything
 * else is a file path.
 */
function readArtifact(fileOrDigest: string): { bytes?: Buffer; sha256: string } {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(fileOrDigest);
  if (m?.[1] && !existsSync(fileOrDigest)) return { sha256: m[1].toLowerCase() };
  const bytes = readInput(fileOrDigest, 'artifact');
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function readInput(file: string, what: string): Buffer {
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

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

/**
 * `trustops verify-bundle`: the sigstore-conformance CLI protocol (docs/cli_protocol.md), verify side:
 *
 *   verify-bundle [--staging] --bundle FILE
 *     [--certificate-identity IDENTITY --certificate-oidc-issuer URL | --key FILE]
 *     [--trusted-root FILE] FILE_OR_DIGEST
 *
 * Exit 0 when the bundle verifies, 1 when it does not, 2 on usage errors. The identity is an exact SAN
 * match, the issuer an exact match (the protocol has no regexp form).
 */
interface VerifyBundleOptions {
  bundle: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
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
    .option('--certificate-oidc-issuer <url>', 'expected OIDC issuer of the signing certificate')
    .option('--key <file>', 'PEM public key to verify with instead of a certificate identity')
    .option('--trusted-root <file>', 'trusted_root.json (default: the embedded Sigstore public-good root)')
    .option(
      '--staging',
      'use the Sigstore staging instance (needs --trusted-root: no staging root is embedded)',
    )
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
    process.stdout.write(
      `OK: ${opts.bundle} verified; signed by ${result.identity}; evidence ${result.evidence.join('+')}\n`,
    );
    return EXIT.OK;
  } catch (e) {
    if (e instanceof SignatureError) {
      process.stderr.write(`trustops verify-bundle: FAILED [${e.code}] ${e.message}\n`);
      return EXIT.BLOCKED;
    }
    throw e;
  }
}

function signerFromOptions(opts: VerifyBundleOptions): ResolvedSigner {
  const identity = opts.certificateIdentity !== undefined || opts.certificateOidcIssuer !== undefined;
  if (opts.key !== undefined && identity) {
    throw new UsageError(
      'give either --key or --certificate-identity with --certificate-oidc-issuer, not both',
    );
  }
  if (opts.key !== undefined) {
    // Fail closed like a policy key signer's default: a key signature still needs tlog or TSA evidence.
    return {
      name: SIGNER,
      key: { publicKeyPem: readInput(opts.key, 'key').toString('utf8'), requireTransparencyLog: true },
    };
  }
  if (opts.certificateIdentity === undefined || opts.certificateOidcIssuer === undefined) {
    throw new UsageError('--certificate-identity and --certificate-oidc-issuer are required (or --key)');
  }
  return { name: SIGNER, keyless: { subject: opts.certificateIdentity, issuer: opts.certificateOidcIssuer } };
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

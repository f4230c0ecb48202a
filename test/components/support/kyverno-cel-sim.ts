import { CelScalar, celFunc, isCelError, listType, parse, plan, celEnv, type CelFunc } from '@bufbuild/cel';
import type { KubernetesObject } from '../../../components/kyverno/render-policies';

/**
 * A small stand-in for Kyverno's ImageValidatingPolicy engine: it evaluates the rendered CEL with a real
 * CEL implementation (@bufbuild/cel, RE2 regular expressions like Kyverno's Go engine) and answers the
 * image-verification functions from plain evidence. What Sigstore proves (who signed what) is given; what
 * the policy concludes from it is computed. Any CEL error denies, as failurePolicy Fail does.
 */

export interface SimStatement {
  signer: string;
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface SimEvidence {
  /** Signers with a valid signature on the image. */
  signatures: string[];
  statements: SimStatement[];
}

interface Attestor {
  name: string;
}
interface Attestation {
  name: string;
  intoto: { type: string };
}

export interface SimResult {
  allowed: boolean;
  /** Messages of the validations that failed (or errored). */
  failed: string[];
}

/**
 * `signerOf` maps attestor names (as rendered) to trust-policy signer names. `object` is the admitted
 * resource (`object` in CEL; a Pod with no spec by default), for validations that read more than images.
 */
export function admitPod(
  policy: KubernetesObject,
  images: Record<string, string[]>,
  evidenceOf: (image: string) => SimEvidence,
  signerOf: ReadonlyMap<string, string>,
  object: Record<string, unknown> = { apiVersion: 'v1', kind: 'Pod', spec: {} },
): SimResult {
  const spec = policy.spec as {
    attestors: Attestor[];
    attestations?: Attestation[];
    validations: { expression: string; message: string; messageExpression?: string }[];
    /** Named expressions, read as `variables.<name>` (Kyverno composes them like a ValidatingAdmissionPolicy). */
    variables?: { name: string; expression: string }[];
  };
  // extractPayload returns what the last verification of (image, attestation) accepted.
  const lastVerified = new Map<string, SimStatement>();
  const signersIn = (list: unknown): string[] =>
    [...(list as Iterable<{ get(k: string): unknown }>)].map((a) => {
      const name = String(a.get('name'));
      const signer = signerOf.get(name);
      if (!signer) throw new Error(`unknown attestor ${name}`);
      return signer;
    });
  const DYN = CelScalar.DYN;
  const funcs: CelFunc[] = [
    celFunc('verifyImageSignatures', [CelScalar.STRING, listType(DYN)], CelScalar.INT, (image, attestors) => {
      const ev = evidenceOf(image);
      return BigInt(signersIn(attestors).filter((s) => ev.signatures.includes(s)).length);
    }),
    celFunc(
      'verifyAttestationSignatures',
      [CelScalar.STRING, DYN, listType(DYN)],
      CelScalar.INT,
      (image, attestation, attestors) => {
        const att = attestation as { get(k: string): unknown };
        const name = String(att.get('name'));
        const type = String((att.get('intoto') as { get(k: string): unknown }).get('type'));
        const accepted = signersIn(attestors);
        const hits = evidenceOf(image).statements.filter(
          (s) => s.predicateType === type && accepted.includes(s.signer),
        );
        const first = hits[0];
        if (first) lastVerified.set(`${image}|${name}`, first);
        return BigInt(new Set(hits.map((h) => h.signer)).size);
      },
    ),
    celFunc('extractPayload', [CelScalar.STRING, DYN], DYN, (image, attestation) => {
      const name = String((attestation as { get(k: string): unknown }).get('name'));
      const st = lastVerified.get(`${image}|${name}`);
      if (!st) throw new Error(`no verified ${name} payload for ${image}`);
      // A plain object is a valid CEL input (a map); the typings only list the wrapped forms.
      return {
        _type: 'https://in-toto.io/Statement/v1',
        predicateType: st.predicateType,
        predicate: st.predicate,
      } as never;
    }),
  ];
  const env = celEnv({ funcs });
  const bindings = {
    object,
    images,
    attestors: Object.fromEntries(spec.attestors.map((a) => [a.name, { name: a.name }])),
    attestations: Object.fromEntries(
      (spec.attestations ?? []).map((a) => [a.name, { name: a.name, intoto: a.intoto }]),
    ),
  };
  // Variables in order, each seeing the ones before it. A variable that fails makes every validation
  // that reads it fail with its error (Kyverno evaluates them lazily, per use, to the same effect).
  const variables: Record<string, unknown> = {};
  const failedVariables = new Map<string, unknown>();
  for (const variable of spec.variables ?? []) {
    let value: unknown;
    try {
      value = plan(env, parse(variable.expression))({ ...bindings, variables } as never);
    } catch (e) {
      value = e;
    }
    if (isCelError(value) || value instanceof Error) failedVariables.set(variable.name, value);
    else variables[variable.name] = value;
  }
  const failed: string[] = [];
  for (const v of spec.validations) {
    let result: unknown;
    const broken = [...failedVariables].find(([name]) =>
      new RegExp(`\\bvariables\\.${name}\\b`).test(v.expression),
    );
    try {
      result = broken ? broken[1] : plan(env, parse(v.expression))({ ...bindings, variables } as never);
    } catch (e) {
      result = e;
    }
    if (result === true) continue;
    let message = v.message;
    if (v.messageExpression !== undefined && !isCelError(result)) {
      // A messageExpression that does not evaluate to a string is a defect of the rendered policy.
      let built: unknown;
      try {
        built = plan(env, parse(v.messageExpression))({ ...bindings, variables } as never);
      } catch (e) {
        built = e;
      }
      message =
        typeof built === 'string'
          ? built
          : `${v.message} [messageExpression error: ${isCelError(built) ? built.message : String(built)}]`;
    }
    failed.push(`${message}${isCelError(result) ? ` [CEL error: ${result.message}]` : ''}`);
  }
  return { allowed: failed.length === 0, failed };
}

/** Evaluates one CEL expression (standard library, RE2 `matches`) with `bindings`; a CEL error is thrown. */
export function evaluateCel(expression: string, bindings: Record<string, unknown>): unknown {
  const result = plan(celEnv({}), parse(expression))(bindings as never);
  if (isCelError(result)) throw new Error(`CEL error in ${expression.slice(0, 200)}: ${result.message}`);
  return result;
}

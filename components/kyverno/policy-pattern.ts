import { anchoredPatternProblem, anchoredSource } from '../../policy-pack/supply-chain/anchored-regexp';
import { KyvernoRenderError } from './errors';

/**
 * A trust-policy pattern as Kyverno and cosign must receive it: the anchored RE2 text the pack matches
 * (one definition, the pack's), refused when RE2 rejects it. The renderer also takes policy objects that
 * never went through the pack's loader, so it checks again rather than render what the pack refuses.
 */
export function kyvernoPattern(pattern: string, where: string): string {
  const problem = anchoredPatternProblem(pattern);
  if (problem !== undefined) {
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `${where}: /${pattern}/ is not an RE2 pattern: ${problem}`,
    );
  }
  return anchoredSource(pattern);
}

/**
 * The same pattern inside a Kyverno variable, as a JMESPath raw string: `{{ regex_match('...', x) }}`.
 * Raw strings end at `'`, JMESPath dialects disagree on whether `\\` is one backslash or two, and `{{`
 * or `}}` would end Kyverno's variable; a pattern with any of these could mean something else at
 * admission, so it is refused rather than rendered with a guess.
 */
export function kyvernoRawStringPattern(pattern: string, where: string): string {
  const source = kyvernoPattern(pattern, where);
  if (/'|\\\\|\{\{|\}\}/.test(source)) {
    throw new KyvernoRenderError(
      'NOT_EXPRESSIBLE',
      `${where}: /${pattern}/ contains ', \\\\, {{ or }}, which a Kyverno JMESPath raw string cannot carry unchanged`,
    );
  }
  return source;
}

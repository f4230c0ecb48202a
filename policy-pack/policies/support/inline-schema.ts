/**
 * A JSON schema with its `#/definitions/...` references replaced by the definitions themselves. A policy's
 * config schema is embedded under `properties` of the object schema the engine builds, where a local
 * `$ref` would point at the wrong root; inlining keeps the trust policy's one schema valid there.
 */
export function inlineDefinitions(schema: Record<string, unknown>): Record<string, unknown> {
  const definitions = (schema.definitions ?? {}) as Record<string, unknown>;
  const inline = (node: unknown, depth: number): unknown => {
    if (depth > 32) throw new Error('trust policy schema: recursive $ref cannot be inlined');
    if (Array.isArray(node)) return node.map((n) => inline(n, depth));
    if (node === null || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    const ref = obj.$ref;
    if (typeof ref === 'string') {
      const m = /^#\/definitions\/(.+)$/.exec(ref);
      if (!m || !(m[1]! in definitions)) throw new Error(`trust policy schema: unsupported $ref ${ref}`);
      const { $ref: _ref, ...siblings } = obj;
      const target = inline(definitions[m[1]!], depth + 1) as Record<string, unknown>;
      return Object.keys(siblings).length ? { allOf: [target, inline(siblings, depth)] } : target;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = inline(v, depth);
    return out;
  };
  const { definitions: _d, $schema: _s, $id: _i, ...root } = schema;
  return inline(root, 0) as Record<string, unknown>;
}

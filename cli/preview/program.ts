import { existsSync } from 'node:fs';
import { PreviewError } from './errors';

/**
 * The project's program as the Node.js language host runs it: require the main module; when it
 * exports a function (or a default one), call it; a promise or object is the stack's outputs.
 * The module is loaded afresh on every run so its top-level code runs under the current stack.
 */
export function programFromMain(main: string): () => unknown {
  if (!existsSync(main)) {
    throw new PreviewError('STACK_CONFIG_INVALID', `the program's main module ${main} does not exist`);
  }
  return () => {
    const resolved = require.resolve(main);
    delete require.cache[resolved];
    const exported = require(resolved) as unknown;
    const entry =
      exported !== null && typeof exported === 'object' && 'default' in exported
        ? (exported as { default: unknown }).default
        : exported;
    return typeof entry === 'function' ? (entry as () => unknown)() : entry;
  };
}

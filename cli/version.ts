import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The CLI's version: the root package.json's. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding igx's package.json: the code runs from src/ (tsx) and from dist/src/ (built). */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'igx') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`igx's package.json not found above ${from}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
export const IGX_VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;

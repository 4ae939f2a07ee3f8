import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The repository root: the nearest ancestor of this file holding `pnpm-workspace.yaml`.
 * Works both from `src/` (tests run through tsx) and from the compiled `dist/`.
 */
export function repoRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (no pnpm-workspace.yaml above the testkit)');
    dir = parent;
  }
}

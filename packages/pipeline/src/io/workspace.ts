import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The folders an app is built from: the app and the workspace packages it depends on,
 * transitively, read from package.json (the same edges Nx infers for the project graph).
 */
export function sourceRootsOf(repoRoot: string, appDir: string): string[] {
  const byName = new Map<string, string>();
  for (const group of ['packages', 'apps']) {
    const dir = join(repoRoot, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      const manifest = join(dir, entry, 'package.json');
      if (existsSync(manifest)) byName.set((JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name, `${group}/${entry}`);
    }
  }
  const roots = new Set<string>();
  const visit = (dir: string) => {
    if (roots.has(dir)) return;
    roots.add(dir);
    // A checkout without the app (a scratch repository) still maps its own folder.
    if (!existsSync(join(repoRoot, dir, 'package.json'))) return;
    const pkg = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      const local = byName.get(dep);
      if (local) visit(local);
    }
  };
  visit(appDir);
  return [...roots].sort();
}

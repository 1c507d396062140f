import { exec, execOk } from '../private/exec';

/** Synthesizes the Terraform stacks and the cluster manifests (`nx run-many -t synth`). */
export function synthInfraAndManifests(repoRoot: string, log: (line: string) => void): void {
  log('synth: nx run-many -t synth --projects=infra,gitops');
  const started = Date.now();
  const result = exec('npx', ['nx', 'run-many', '-t', 'synth', '--projects=infra,gitops', '--outputStyle=static'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.code !== 0) throw new Error(`synth failed (exit ${result.code})`);
  log(`synth: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Synthesizes the cluster manifests only, bypassing the Nx cache (the manifest commit must see what is written now). */
export function synthManifests(repoRoot: string): void {
  execOk('npx', ['nx', 'run', 'gitops:synth', '--outputStyle=static', '--skip-nx-cache'], { cwd: repoRoot, stdio: 'inherit' });
}

// Regenerates src/imports/ (typed CRD classes) with `cdk8s import` from crds/ (vendored upstream CRDs).
// cdk8s import writes one file per API group and overwrites it per call, so the CRDs of a
// group are joined into one multi-document file first. Run: npm run import -w @platform/k8s-addons
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const crdDir = join(here, '..', 'crds');
const outDir = join(here, '..', 'src', 'imports');

/** Only the kinds the charts construct: every extra CRD makes synth and type-checking slower. */
const GROUPS = {
  'kustomize.toolkit.fluxcd.io': ['kustomizations'],
  'source.toolkit.fluxcd.io': ['gitrepositories', 'helmrepositories', 'ocirepositories'],
  'helm.toolkit.fluxcd.io': ['helmreleases'],
  'fluxcd.controlplane.io': ['fluxinstances'],
  'postgresql.cnpg.io': ['clusters', 'scheduledbackups'],
  'monitoring.coreos.com': ['prometheusrules', 'servicemonitors'],
};

const work = mkdtempSync(join(tmpdir(), 'crd-import-'));
try {
  rmSync(outDir, { recursive: true, force: true });
  for (const [group, plurals] of Object.entries(GROUPS)) {
    const file = join(work, `${group}.yaml`);
    writeFileSync(file, plurals.map((p) => `---\n${readFileSync(join(crdDir, `${group}_${p}.yaml`), 'utf8')}`).join('\n'));
    execFileSync('npx', ['cdk8s', 'import', file, '--output', outDir, '--language', 'typescript'], { stdio: 'inherit', cwd: join(here, '..') });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

import { join } from 'node:path';

/** Where the workspace keeps synthesized output and where the pipeline writes its own. */
export interface PipelinePaths {
  readonly repoRoot: string;
  readonly infraOut: string;
  readonly stacksDir: string;
  readonly clustersDir: string;
  readonly outDir: string;
  readonly commentsDir: string;
  readonly plansDir: string;
}

export const CLUSTERS_DIR = 'clusters';
export const INFRA_APP_DIR = 'apps/infra';
export const GITOPS_APP_DIR = 'apps/gitops';

export function pipelinePaths(repoRoot: string, outDir: string = join(repoRoot, 'dist', 'pipeline')): PipelinePaths {
  const infraOut = join(repoRoot, INFRA_APP_DIR, 'cdktf.out');
  return {
    repoRoot,
    infraOut,
    stacksDir: join(infraOut, 'stacks'),
    clustersDir: join(repoRoot, CLUSTERS_DIR),
    outDir,
    commentsDir: join(outDir, 'comments'),
    plansDir: join(outDir, 'plans'),
  };
}

/** Name of the workflow artifact with a manifest-only cluster's comment. */
export function clusterArtifactName(cluster: string): string {
  return `cluster-${cluster}`;
}

/** Name of the workflow artifact with a stack's full plan; the comment points at it. */
export function planArtifactName(stack: string): string {
  return `plan-${stack}`;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GitHubClient } from '../io/github';
import { clusterArtifactName } from '../io/paths';
import { upsertComment } from '../io/upsert';
import { clusterMarker, planMarker } from './comment';

/** Upserts the comment files of a `pr` run on the pull request: one per stack, one per manifest-only cluster. */
export async function postPullRequestComments(input: {
  readonly client: GitHubClient;
  readonly issue: number;
  readonly commentsDir: string;
  readonly stacks: readonly string[];
  readonly clusters: readonly string[];
  readonly log: (line: string) => void;
}): Promise<void> {
  for (const stack of input.stacks) {
    const body = readFileSync(join(input.commentsDir, `${stack}.md`), 'utf8');
    const result = await upsertComment(input.client, input.issue, planMarker(stack), body);
    input.log(`${stack}: comment ${result.action} (#${result.id})`);
  }
  for (const cluster of input.clusters) {
    const body = readFileSync(join(input.commentsDir, `${clusterArtifactName(cluster)}.md`), 'utf8');
    const result = await upsertComment(input.client, input.issue, clusterMarker(cluster), body);
    input.log(`cluster ${cluster}: comment ${result.action} (#${result.id})`);
  }
}

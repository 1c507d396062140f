/**
 * The branch each cluster's Flux follows instead of main: the pipeline moves it to a merged
 * commit only once every stack that commit touched for the cluster is applied (immediately
 * when it touched none), so manifests never go live before their infrastructure. Flux's
 * sync ref and the pipeline both derive it here.
 */
export function deployBranchOf(cluster: string): string {
  return `deploy/${cluster}`;
}

/** The full ref, as Flux's GitRepository `ref.name` and `git push` name it. */
export function deployRefOf(cluster: string): string {
  return `refs/heads/${deployBranchOf(cluster)}`;
}

#!/usr/bin/env bash
# The region-failover workflow's last fail-back step: fail-back rewrote platform-config's
# database-archives.ts (the restored primary archives under a new server name); regenerate the
# manifests and open a pull request, so Git names the archive before Flux resumes on the primary
# and before the next promotion restores from the replica. Env: CLUSTER, GITHUB_RUN_ID,
# GITHUB_RUN_ATTEMPT, GH_TOKEN.
set -euo pipefail
file=packages/platform-config/src/database-archives.ts
if git diff --quiet -- "$file"; then
  echo "$file unchanged: nothing to propose"
  exit 0
fi
branch="failover/archive-${CLUSTER}-${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT}"
npx nx run gitops:synth --outputStyle=static
git switch -c "$branch"
git add -- "$file" clusters
git -c user.name="region-failover" -c user.email="region-failover@users.noreply.github.com" \
  commit -m "region failover: ${CLUSTER} archives under its restored server name (run ${GITHUB_RUN_ID})"
git push "https://x-access-token:${GH_TOKEN}@github.com/${GITHUB_REPOSITORY}.git" "$branch"
gh pr create --head "$branch" --title "region failover: ${CLUSTER}'s archive server name after fail-back" \
  --body "Fail-back restored ${CLUSTER}'s database under a new barman server name. Merge this before resuming Flux on ${CLUSTER} (docs/runbooks/region-failover.md)."

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AMI_LOCK_FILE, amiLockIssues, formatIssue, renderAmiLock, type AmiLock } from '@platform/platform-config';
import { awsCliImageCatalog } from '../../io/aws-images';
import { lockChangeMarkdown, resolveAmiLock, type ImageCatalog } from '../../operations/ami-lock';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

export interface AmiLockDeps {
  /** @default SSM and EC2 through the AWS CLI */
  readonly catalog?: ImageCatalog;
}

/** The repository secret the ami-lock workflow pushes and opens its pull request with (docs/runbooks/node-images.md). */
export const AMI_LOCK_TOKEN_SECRET = 'AMI_LOCK_TOKEN';

/** The PR body `--write` leaves for the workflow (under the pipeline's out dir). */
export const AMI_LOCK_PR_BODY = 'ami-lock-pr.md';

/**
 * `ami-lock [--write]`: resolves the newest image of every cluster region and architecture and
 * reports what would change (exit 0 either way); `--write` rewrites ami-lock.json, after checking
 * the new lock with the platform's own validation, and sets the step output `changed`.
 */
export function amiLockCommand(deps: AmiLockDeps = {}): Command<{ readonly write: boolean }> {
  return {
    description: 'resolve the newest node image per region (Canonical SSM parameters) and rewrite the AMI lock',
    parse(args) {
      return { write: parseOptions(args, { write: { type: 'boolean' } }).write ?? false };
    },
    async run({ write }, { platform, paths, actions, log }) {
      const file = join(paths.repoRoot, AMI_LOCK_FILE);
      const current = JSON.parse(readFileSync(file, 'utf8')) as AmiLock;
      const resolved = await resolveAmiLock(platform, deps.catalog ?? awsCliImageCatalog(), current);
      resolved.kept.forEach((line) => log(line));
      const text = renderAmiLock(resolved.lock);
      const changed = text !== readFileSync(file, 'utf8');
      const markdown = lockChangeMarkdown(resolved);
      console.log(markdown);
      actions.summary(markdown);
      if (!write) return 0;
      // The checks loadPlatform runs at synth, before the file changes: a lock that would fail synth is never written.
      const issues = amiLockIssues(resolved.lock, platform.clusters, platform.settings);
      if (issues.length > 0) throw new Error(`the resolved lock is invalid:\n${issues.map(formatIssue).join('\n')}`);
      if (changed) writeFileSync(file, text);
      mkdirSync(paths.outDir, { recursive: true });
      writeFileSync(join(paths.outDir, AMI_LOCK_PR_BODY), markdown);
      actions.output('changed', String(changed));
      log(changed ? `rewrote ${AMI_LOCK_FILE}: ${resolved.changes.map((c) => `${c.region}/${c.architecture} ${c.to.imageId}`).join(', ')}` : `${AMI_LOCK_FILE} is current`);
      return 0;
    },
  };
}

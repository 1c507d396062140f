import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Produces a directory's new contents in a sibling staging folder and swaps it in only
 * when `produce` succeeds, so a failed synth leaves the previous output exactly as it was
 * and files of removed resources disappear with the old folder.
 */
export async function replaceDirectoryAtomically(target: string, produce: (stagingDir: string) => void | Promise<void>): Promise<void> {
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.${basename(target)}.staging-${process.pid}`);
  const previous = join(parent, `.${basename(target)}.previous-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await produce(staging);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  rmSync(previous, { recursive: true, force: true });
  const hadPrevious = existsSync(target);
  if (hadPrevious) renameSync(target, previous);
  try {
    renameSync(staging, target);
  } catch (error) {
    // Put the old output back rather than leave it only in a hidden folder.
    if (hadPrevious) renameSync(previous, target);
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  rmSync(previous, { recursive: true, force: true });
}

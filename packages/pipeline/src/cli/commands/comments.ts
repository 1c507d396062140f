import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

/** Lists the comment files of the last `pipeline:pr` run (for scripts). */
export const comments: Command<Record<string, never>> = {
  description: 'the comment files of the last pr run',
  parse(args) {
    parseOptions(args, {});
    return {};
  },
  async run(_options, { paths }) {
    if (existsSync(paths.commentsDir)) readdirSync(paths.commentsDir).forEach((f) => console.log(join(paths.commentsDir, f)));
    return 0;
  },
};

import { StepError, type StepContext } from '../step';

export interface PollResult {
  readonly done: boolean;
  /** What was seen, for the timeout message. */
  readonly status: string;
}

/** Checks until `check` reports done or `timeoutSeconds` pass; always checks at least once. */
export async function pollUntil(ctx: StepContext, what: string, timeoutSeconds: number, check: () => Promise<PollResult>): Promise<string> {
  const deadline = ctx.now() + timeoutSeconds;
  for (;;) {
    const result = await check();
    if (result.done) return result.status;
    if (ctx.now() + ctx.options.pollSeconds > deadline) {
      throw new StepError(`timed out after ${timeoutSeconds} s waiting for ${what}; last seen: ${result.status}`);
    }
    await ctx.sleep(ctx.options.pollSeconds);
  }
}

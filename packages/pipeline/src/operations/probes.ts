/**
 * Game-day availability: probe an endpoint on a fixed interval while an AZ is taken away,
 * then report the share of successful probes and the longest outage.
 */

export interface ProbeSample {
  /** Milliseconds since the start of the run, when the probe was sent. */
  readonly at: number;
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly detail?: string;
}

export interface Availability {
  readonly probes: number;
  readonly successful: number;
  /** Successful probes in percent, two decimals; 0 with no probes. */
  readonly availabilityPercent: number;
  /**
   * Longest outage in milliseconds: from the first failed probe of a run of failures to the
   * next successful probe (or to the last probe when the run never recovered).
   */
  readonly longestOutageMs: number;
  readonly outages: number;
  /** Whether the last probe failed: the outage had not ended when probing stopped. */
  readonly endedDown: boolean;
}

export function summarizeProbes(samples: readonly ProbeSample[]): Availability {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const successful = sorted.filter((s) => s.ok).length;
  let longest = 0;
  let outages = 0;
  let downSince: number | undefined;
  for (const s of sorted) {
    if (!s.ok && downSince === undefined) {
      downSince = s.at;
      outages++;
    } else if (s.ok && downSince !== undefined) {
      longest = Math.max(longest, s.at - downSince);
      downSince = undefined;
    }
  }
  const last = sorted[sorted.length - 1];
  if (downSince !== undefined && last) longest = Math.max(longest, last.at - downSince);
  return {
    probes: sorted.length,
    successful,
    availabilityPercent: sorted.length === 0 ? 0 : Math.round((successful / sorted.length) * 10_000) / 100,
    longestOutageMs: longest,
    outages,
    endedDown: last !== undefined && !last.ok,
  };
}

export type Probe = (signal: AbortSignal) => Promise<{ ok: boolean; detail?: string }>;

export interface ProbeLoopOptions {
  readonly intervalMs: number;
  /** Hard cap on probes, so a loop always ends. */
  readonly maxProbes: number;
  /** Each probe is abandoned (and counts as failed) after this long. */
  readonly timeoutMs: number;
  /** Stop early when this resolves true (e.g. the experiment finished). */
  readonly shouldStop?: () => boolean | Promise<boolean>;
  readonly now?: () => number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `probe` every `intervalMs` until `maxProbes` or `shouldStop`, one probe at a time. */
export async function runProbes(probe: Probe, options: ProbeLoopOptions): Promise<ProbeSample[]> {
  if (!(options.intervalMs > 0)) throw new Error(`intervalMs ${options.intervalMs} must be greater than 0`);
  if (!(options.maxProbes >= 1)) throw new Error(`maxProbes ${options.maxProbes} must be at least 1`);
  const now = options.now ?? (() => performance.now());
  const start = now();
  const samples: ProbeSample[] = [];
  for (let i = 0; i < options.maxProbes; i++) {
    if (options.shouldStop && (await options.shouldStop())) break;
    const sentAt = now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let result: { ok: boolean; detail?: string };
    try {
      result = await probe(controller.signal);
    } catch (error) {
      result = { ok: false, detail: controller.signal.aborted ? `timeout after ${options.timeoutMs} ms` : String((error as Error).message ?? error) };
    } finally {
      clearTimeout(timer);
    }
    samples.push({ at: sentAt - start, ok: result.ok, latencyMs: now() - sentAt, ...(result.detail ? { detail: result.detail } : {}) });
    const wait = options.intervalMs - (now() - sentAt);
    if (i + 1 < options.maxProbes && wait > 0) await sleep(wait);
  }
  return samples;
}

/** An HTTP(S) GET probe: 2xx/3xx is up. */
export function httpProbe(url: string, expectStatus: (status: number) => boolean = (s) => s >= 200 && s < 400): Probe {
  return async (signal) => {
    const response = await fetch(url, { signal, redirect: 'manual' });
    await response.arrayBuffer();
    return { ok: expectStatus(response.status), detail: `HTTP ${response.status}` };
  };
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

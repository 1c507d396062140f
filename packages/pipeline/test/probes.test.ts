import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpProbe, runProbes, summarizeProbes } from '../src/operations/probes';

const sample = (at: number, ok: boolean) => ({ at, ok, latencyMs: 1 });

describe('summarizeProbes', () => {
  it('computes availability and the longest outage from first failure to next success', () => {
    const samples = [true, true, false, false, false, true, false, true, true, true].map((ok, i) => sample(i * 1000, ok));
    expect(summarizeProbes(samples)).toEqual({ probes: 10, successful: 6, availabilityPercent: 60, longestOutageMs: 3000, outages: 2, endedDown: false });
  });

  it('counts an outage that never recovered up to the last probe', () => {
    expect(summarizeProbes([sample(0, true), sample(500, false), sample(2500, false)])).toMatchObject({ longestOutageMs: 2000, endedDown: true, availabilityPercent: 33.33 });
  });

  it('handles no probes and unsorted input', () => {
    expect(summarizeProbes([])).toEqual({ probes: 0, successful: 0, availabilityPercent: 0, longestOutageMs: 0, outages: 0, endedDown: false });
    expect(summarizeProbes([sample(2000, true), sample(0, false)]).longestOutageMs).toBe(2000);
  });
});

describe('runProbes against a 127.0.0.1 server', () => {
  it('measures an outage the server really had, bounded in count and time', async () => {
    let requests = 0;
    // Requests 4 to 7 fail with 503: a four-probe outage.
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(requests >= 4 && requests <= 7 ? 503 : 200);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
    try {
      const started = Date.now();
      const samples = await runProbes(httpProbe(url), { intervalMs: 20, maxProbes: 12, timeoutMs: 1000 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(samples).toHaveLength(12);
      const a = summarizeProbes(samples);
      expect(a).toMatchObject({ probes: 12, successful: 8, availabilityPercent: 66.67, outages: 1, endedDown: false });
      expect(a.longestOutageMs).toBeGreaterThanOrEqual(4 * 20 - 5);
      expect(samples[3].detail).toBe('HTTP 503');
    } finally {
      server.close();
    }
  });

  it('counts a probe that hangs past its timeout as failed, and stops when told', async () => {
    const server = createServer(() => undefined); // never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    let calls = 0;
    try {
      const samples = await runProbes(httpProbe(url), { intervalMs: 10, maxProbes: 50, timeoutMs: 50, shouldStop: () => ++calls > 3 });
      expect(samples).toHaveLength(3);
      expect(samples.every((s) => !s.ok && s.detail === 'timeout after 50 ms')).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('rejects a loop that could not end', async () => {
    await expect(runProbes(async () => ({ ok: true }), { intervalMs: 0, maxProbes: 1, timeoutMs: 1 })).rejects.toThrow('intervalMs 0 must be greater than 0');
  });
});

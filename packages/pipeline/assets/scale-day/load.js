// Scale day's load (k6): ramps to RATE requests/s over RAMP_UP s, holds HOLD s, ramps down over
// RAMP_DOWN s, against TARGET_URL with the Host header HOST (the app's own hostname through this
// cluster's ingress load balancer), each request a METHOD (GET, or POST for a CPU-costly path). Every request is tagged with its WINDOW-second window; the
// per-window thresholds below only exist so k6 keeps those sub-metrics for the summary (they
// never fail). handleSummary prints one line the pipeline parses: SCALE_DAY_SUMMARY <json>.
import http from 'k6/http';
import exec from 'k6/execution';

const RATE = Number(__ENV.RATE);
const RAMP_UP = Number(__ENV.RAMP_UP);
const HOLD = Number(__ENV.HOLD);
const RAMP_DOWN = Number(__ENV.RAMP_DOWN);
const WINDOW = Number(__ENV.WINDOW);
const WINDOWS = Math.ceil((RAMP_UP + HOLD + RAMP_DOWN) / WINDOW) + 1;

const thresholds = {};
for (let i = 0; i < WINDOWS; i++) {
  thresholds[`http_req_duration{window:${i}}`] = ['max>=0'];
  thresholds[`http_req_failed{window:${i}}`] = ['rate>=0'];
  thresholds[`http_reqs{window:${i}}`] = ['count>=0'];
}

export const options = {
  scenarios: {
    load: {
      executor: 'ramping-arrival-rate',
      startRate: 1,
      timeUnit: '1s',
      preAllocatedVUs: Math.max(10, RATE),
      maxVUs: Math.max(50, RATE * 4),
      stages: [
        { target: RATE, duration: `${RAMP_UP}s` },
        { target: RATE, duration: `${HOLD}s` },
        { target: 0, duration: `${RAMP_DOWN}s` },
      ],
    },
  },
  thresholds,
  insecureSkipTLSVerify: true,
  summaryTrendStats: ['p(95)', 'max'],
};

export default function () {
  const window = Math.floor((Date.now() - exec.scenario.startTime) / (WINDOW * 1000));
  http.request(__ENV.METHOD || 'GET', __ENV.TARGET_URL, null, { headers: { Host: __ENV.HOST }, tags: { window: String(window) }, timeout: '10s' });
}

export function handleSummary(data) {
  const windows = [];
  for (let i = 0; i < WINDOWS; i++) {
    const d = data.metrics[`http_req_duration{window:${i}}`];
    const f = data.metrics[`http_req_failed{window:${i}}`];
    const n = data.metrics[`http_reqs{window:${i}}`];
    if (!n || n.values.count === 0) continue;
    windows.push({ t: i * WINDOW, seconds: WINDOW, requests: n.values.count, errorRate: f ? f.values.rate : 0, p95Ms: d ? d.values['p(95)'] : 0 });
  }
  const totals = {
    requests: data.metrics.http_reqs ? data.metrics.http_reqs.values.count : 0,
    errorRate: data.metrics.http_req_failed ? data.metrics.http_req_failed.values.rate : 0,
    p95Ms: data.metrics.http_req_duration ? data.metrics.http_req_duration.values['p(95)'] : 0,
  };
  return { stdout: `SCALE_DAY_SUMMARY ${JSON.stringify({ windows, totals })}\n` };
}

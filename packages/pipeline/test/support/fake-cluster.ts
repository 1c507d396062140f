import type { ScaleDayRequest } from '@platform/platform-config';
import type { KubeClient } from '../../src/io/kubectl';
import type { Clock } from '../../src/operations/scale-day/run';

/**
 * A cluster that behaves like the API for what scale day reads, driven by a fake clock:
 * - the load Job's k6 sends the ramp (its env) at the ingress; each Ready web pod serves `podRps`;
 * - the HPA (sync 15 s, metrics 15 s behind) sets desiredReplicas from CPU as kube-controller-manager's
 *   replica calculator does on a scale-up: only pods Ready for a full 15 s metric window count, each
 *   using what it receives (the load over the Ready pods) up to its CPU ceiling (`podMaxRps`); pods not
 *   yet measured count as 0, so desired = ceil(Σ measured usage / podRps); then the `scaleUp`
 *   policies of the rendered HPA bound it (Max or Min of Pods +n / Percent per period); scale-down
 *   only after a 300 s stabilization window;
 * - the scheduler places web pods on Ready worker nodes with room (`podsPerNode`) under the app's
 *   zone spread (maxSkew 1, DoNotSchedule): a pod that fits nowhere stays Pending;
 * - the cluster-autoscaler (scan every 10 s) launches a node per Pending pod it cannot place, in the
 *   AZ with the fewest nodes below `maxPerAz`; the node registers NotReady after the EC2 launch
 *   (90 s) and turns Ready after node boot and join (120 s more);
 * - a pod is phase Pending until its containers run (pod start 30 s after binding), Ready 5 s later;
 * - the load Job's pod (labelled `job-name`, as the Job controller does) is Pending for `k6PendingSeconds`
 *   (no room for its request on a full cluster) before it runs; k6's clock starts when it runs; the Job
 *   fails with DeadlineExceeded once `activeDeadlineSeconds` have passed since it was created;
 * - k6's summary: per window, p95 rises past 70 % of what the Ready pods serve, requests fail past 150 %;
 *   with `k6Crashes` it prints only an error (no summary line), as k6 does when its script throws.
 */
export interface FakeClusterOptions {
  readonly azs: readonly string[];
  readonly nodesPerAz: number;
  readonly maxPerAz: number;
  readonly podsPerNode: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Requests per second one Ready pod serves at its 70 % CPU target. */
  readonly podRps: number;
  /** Requests per second one pod can burn at most (its CPU ceiling: limit / CPU per request). @default no ceiling */
  readonly podMaxRps?: number;
  /** The HPA's spec.behavior.scaleUp as rendered. @default the API's: Max of Percent 100 and Pods 4, per 15 s */
  readonly scaleUp?: { readonly selectPolicy?: 'Max' | 'Min'; readonly policies: ReadonlyArray<{ readonly type: 'Pods' | 'Percent'; readonly value: number; readonly periodSeconds: number }> };
  /** Seconds the k6 pod stays Pending before it runs. @default 0 */
  readonly k6PendingSeconds?: number;
  /** Pods Pending in another namespace throughout (not the app's). @default 0 */
  readonly otherPendingPods?: number;
  /** k6 exits without its summary line. @default false */
  readonly k6Crashes?: boolean;
}

// kubectl's resource names (singular, plural or Kind) to RBAC's group and resource.
const RESOURCES: Record<string, [string, string]> = {
  horizontalpodautoscaler: ['autoscaling', 'horizontalpodautoscalers'],
  deployment: ['apps', 'deployments'],
  pods: ['', 'pods'],
  nodes: ['', 'nodes'],
  job: ['batch', 'jobs'],
  Job: ['batch', 'jobs'],
  configmap: ['', 'configmaps'],
  ConfigMap: ['', 'configmaps'],
};
const resourceOf = (kind: string): [string, string] => {
  const r = RESOURCES[kind];
  if (!r) throw new Error(`the fake cluster does not know kubectl resource ${kind}`);
  return r;
};

/** The web Deployment's selector (HaWorkload's labels). */
const WEB_LABELS = { 'app.kubernetes.io/name': 'web' } as const;

interface Node { name: string; az: string; registeredAt: number; readyAt: number }
interface Pod { name: string; node: Node | undefined; boundAt: number; unschedulable: boolean }

/**
 * Besides the objects, it records each API request kubectl makes for a call, as RBAC sees it
 * (`requests`): `get` is a get with a name or a list without one (across namespaces with
 * --all-namespaces); `apply` reads each object, then creates or patches it; `logs job/<name>`
 * reads the Job, lists its pods by selector and reads the pod's `pods/log`; `create token` is a
 * create of `serviceaccounts/token` on the ServiceAccount.
 */
/** `decisions`: each HPA change of desiredReplicas, seconds after the fake's start. */
export function fakeCluster(options: FakeClusterOptions): { kube: KubeClient; clock: Clock; applied: object[]; deleted: string[]; requests: ScaleDayRequest[]; decisions: ReadonlyArray<{ at: number; from: number; to: number }> } {
  const calls: ScaleDayRequest[] = [];
  const request = (verb: string, kind: string, namespace: string | undefined, name?: string): void => {
    const [group, resource] = resourceOf(kind);
    calls.push({ verb, group, resource, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) });
  };
  let now = Date.UTC(2026, 11, 5, 2, 0, 0);
  const t0 = now;
  const nodes: Node[] = options.azs.flatMap((az) => Array.from({ length: options.nodesPerAz }, (_, i) => ({ name: `${az}-${i}`, az, registeredAt: t0 - 1e9, readyAt: t0 - 1e9 })));
  const pods: Pod[] = [];
  const applied: object[] = [];
  const deleted: string[] = [];
  let job: { name: string; created: number; start: number; deadline: number; env: Record<string, number | string> } | undefined;
  let desired = options.minReplicas;
  const recommendations: Array<{ at: number; replicas: number }> = [];
  let lastSync = t0;
  let lastScan = t0;
  let podSeq = 0;
  const s = (ms: number): number => ms / 1000;

  const jobState = (): 'active' | 'succeeded' | 'failed' => {
    if (!job) return 'active';
    const e = job.env;
    const end = job.start + (Number(e.RAMP_UP) + Number(e.HOLD) + Number(e.RAMP_DOWN) + 5) * 1000;
    if (end <= now && end <= job.deadline) return 'succeeded';
    return now >= job.deadline ? 'failed' : 'active';
  };
  const rateAt = (at: number): number => {
    if (!job || at < job.start) return 0;
    const e = job.env;
    const [up, hold, down, rate] = [Number(e.RAMP_UP), Number(e.HOLD), Number(e.RAMP_DOWN), Number(e.RATE)];
    const t = s(at - job.start);
    if (t < 0) return 0;
    if (t < up) return (rate * t) / up;
    if (t < up + hold) return rate;
    if (t < up + hold + down) return rate * (1 - (t - up - hold) / down);
    return 0;
  };
  const ready = (n: Node, at: number): boolean => n.readyAt <= at;
  const podReady = (p: Pod, at: number): boolean => p.node !== undefined && p.boundAt + 35_000 <= at;
  const running = (p: Pod, at: number): boolean => p.node !== undefined && p.boundAt + 30_000 <= at;
  const perAz = (az: string): number => pods.filter((p) => p.node?.az === az).length;

  const schedule = (at: number): void => {
    for (const p of pods.filter((x) => x.node === undefined)) {
      const counts = options.azs.map(perAz);
      const min = Math.min(...counts);
      // DoNotSchedule, maxSkew 1: only an AZ whose count + 1 stays within 1 of the smallest.
      const candidates = nodes.filter((n) => ready(n, at) && pods.filter((x) => x.node === n).length < options.podsPerNode && perAz(n.az) + 1 - min <= 1);
      candidates.sort((a, b) => perAz(a.az) - perAz(b.az));
      if (candidates[0]) {
        p.node = candidates[0];
        p.boundAt = at;
      }
      // The scheduler's verdict (PodScheduled=False, Unschedulable) is what the autoscaler acts on.
      p.unschedulable = p.node === undefined;
    }
  };
  const scaleUps: Array<{ at: number; change: number }> = [];
  const decisions: Array<{ at: number; from: number; to: number }> = [];
  const hpaSync = (at: number): void => {
    const current = pods.length;
    const serving = pods.filter((p) => podReady(p, at - 15_000)).length;
    // Measured: Ready before the sample's 15 s window began (unready or unsampled pods count 0 on a scale-up).
    const measured = pods.filter((p) => p.node !== undefined && p.boundAt + 35_000 + 15_000 <= at).length;
    const offered = rateAt(at - 15_000);
    const perPod = serving > 0 ? Math.min(offered / serving, options.podMaxRps ?? Infinity) : 0;
    const wantedUp = Math.ceil((measured * perPod) / options.podRps - 1e-9);
    const loadTarget = Math.ceil(offered / options.podRps);
    // Scaling up, only what the measured pods use can ask for more; scaling down, the load decides (then the window).
    const wanted = Math.min(options.maxReplicas, Math.max(options.minReplicas, loadTarget > current ? Math.max(current, wantedUp) : loadTarget));
    recommendations.push({ at, replicas: wanted });
    const windowMax = Math.max(...recommendations.filter((r) => r.at > at - 300_000).map((r) => r.replicas));
    const up = options.scaleUp ?? { selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }, { type: 'Pods' as const, value: 4, periodSeconds: 15 }] };
    const limits = up.policies.map((p) => {
      const start = current - scaleUps.filter((e) => e.at > at - p.periodSeconds * 1000).reduce((n, e) => n + e.change, 0);
      return p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    });
    const limit = up.selectPolicy === 'Min' ? Math.min(...limits) : Math.max(...limits);
    const next = wanted > current ? Math.min(wanted, limit) : Math.min(current, windowMax);
    desired = Math.max(options.minReplicas, next);
    if (desired > current) scaleUps.push({ at, change: desired - current });
    if (desired !== current) decisions.push({ at: (at - t0) / 1000, from: current, to: desired });
    while (pods.length < desired) pods.push({ name: `web-${podSeq++}`, node: undefined, boundAt: 0, unschedulable: false });
    while (pods.length > desired) pods.pop();
  };
  const autoscalerScan = (at: number): void => {
    const pending = pods.filter((p) => p.node === undefined && p.unschedulable).length;
    const booting = nodes.filter((n) => !ready(n, at)).length * options.podsPerNode;
    for (let k = 0; k < Math.ceil(Math.max(0, pending - booting) / options.podsPerNode); k++) {
      const az = [...options.azs].filter((z) => nodes.filter((n) => n.az === z).length < options.maxPerAz).sort((a, b) => nodes.filter((n) => n.az === a).length - nodes.filter((n) => n.az === b).length)[0];
      if (!az) return;
      nodes.push({ name: `${az}-${nodes.filter((n) => n.az === az).length}`, az, registeredAt: at + 90_000, readyAt: at + 210_000 });
    }
  };
  const advance = (to: number): void => {
    for (let at = now; at <= to; at += 1000) {
      if (at - lastSync >= 15_000) {
        lastSync = at;
        hpaSync(at);
      }
      schedule(at);
      if (at - lastScan >= 10_000) {
        lastScan = at;
        autoscalerScan(at);
      }
    }
    now = to;
  };
  // The app runs its minimum before the load.
  while (pods.length < options.minReplicas) pods.push({ name: `web-${podSeq++}`, node: undefined, boundAt: t0 - 1e9, unschedulable: false });
  schedule(t0);
  for (const p of pods) p.boundAt = t0 - 1e9;

  const list = (items: object[]): object => ({ apiVersion: 'v1', kind: 'List', items });
  const kube: KubeClient = {
    getJson(args) {
      const named = args[1] !== undefined && !args[1].startsWith('-') ? args[1] : undefined;
      const ns = args.includes('--all-namespaces') ? undefined : args[args.indexOf('-n') + 1];
      request(named ? 'get' : 'list', args[0], args.includes('-n') ? ns : undefined, named);
      const [kind, name] = args;
      if (kind === 'horizontalpodautoscaler' && name === 'web') return { spec: { minReplicas: options.minReplicas, maxReplicas: options.maxReplicas }, status: { currentReplicas: pods.length, desiredReplicas: desired } };
      if (kind === 'deployment' && name === 'web') {
        const r = pods.filter((p) => podReady(p, now)).length;
        // The API omits readyReplicas when it is 0.
        return { spec: { selector: { matchLabels: WEB_LABELS } }, status: { replicas: pods.length, ...(r > 0 ? { readyReplicas: r } : {}) } };
      }
      const webPending = (): object[] => pods.filter((p) => !running(p, now)).map((p) => ({ metadata: { name: p.name, namespace: 'web', labels: WEB_LABELS }, status: { phase: 'Pending' } }));
      const k6Phase = (): string => (!job ? 'none' : now < job.start ? 'Pending' : jobState() === 'active' ? 'Running' : jobState() === 'succeeded' ? 'Succeeded' : 'Failed');
      if (kind === 'pods' && args.includes('--all-namespaces') && args.includes('--field-selector=status.phase=Pending')) {
        const others = Array.from({ length: options.otherPendingPods ?? 0 }, (_, i) => ({ metadata: { name: `batch-${i}`, namespace: 'reports' }, status: { phase: 'Pending' } }));
        return list([...webPending(), ...(k6Phase() === 'Pending' ? [{ metadata: { name: `${job?.name}-x`, namespace: 'scale-day' }, status: { phase: 'Pending' } }] : []), ...others]);
      }
      if (kind === 'pods' && args[1] === '-n' && args[2] === 'web' && args[3] === '-l' && args.includes('--field-selector=status.phase=Pending')) {
        // A label selector matches only when every pair is on the pod.
        const wanted = Object.fromEntries(args[4].split(',').map((kv) => kv.split('=')));
        return list(Object.entries(wanted).every(([k, v]) => (WEB_LABELS as Record<string, string>)[k] === v) ? webPending() : []);
      }
      if (kind === 'pods' && args[1] === '-n' && args[2] === 'scale-day' && args[3] === '-l') {
        return list(job && args[4] === `job-name=${job.name}` ? [{ metadata: { name: `${job.name}-x`, labels: { 'job-name': job.name } }, status: { phase: k6Phase() } }] : []);
      }
      if (kind === 'nodes') {
        const cp = [0, 1, 2].map((i) => ({ metadata: { name: `cp-${i}`, labels: { 'node-role.kubernetes.io/control-plane': '', 'topology.kubernetes.io/zone': options.azs[i % options.azs.length] } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }));
        const workers = nodes.filter((n) => n.registeredAt <= now).map((n) => ({ metadata: { name: n.name, labels: { 'topology.kubernetes.io/zone': n.az } }, status: { conditions: [{ type: 'Ready', status: ready(n, now) ? 'True' : 'False' }] } }));
        return list([...cp, ...workers]);
      }
      if (kind === 'job' && job && name === job.name) {
        const state = jobState();
        return { status: state === 'succeeded' ? { succeeded: 1 } : state === 'failed' ? { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] } : { active: 1 } };
      }
      throw new Error(`Error from server (NotFound): ${args.join(' ')} not found`);
    },
    apply(objects) {
      for (const o of objects as Array<{ kind: string; metadata: { name: string; namespace?: string } }>) {
        request('get', o.kind, o.metadata.namespace, o.metadata.name);
        request(applied.some((a) => (a as typeof o).kind === o.kind && (a as typeof o).metadata.name === o.metadata.name) ? 'patch' : 'create', o.kind, o.metadata.namespace, o.metadata.name);
      }
      applied.push(...objects);
      const j = objects.find((o) => (o as { kind: string }).kind === 'Job') as { metadata: { name: string }; spec: { activeDeadlineSeconds: number; template: { spec: { containers: Array<{ image: string; env: Array<{ name: string; value: string }> }> } } } } | undefined;
      if (j) {
        const c = j.spec.template.spec.containers[0];
        if (!/@sha256:[0-9a-f]{64}$/.test(c.image)) throw new Error(`image ${c.image} is not pinned by digest`);
        job = { name: j.metadata.name, created: now, start: now + (options.k6PendingSeconds ?? 0) * 1000, deadline: now + j.spec.activeDeadlineSeconds * 1000, env: Object.fromEntries(c.env.map((e) => [e.name, e.value])) };
      }
    },
    delete(kind, namespace, name) {
      request('delete', kind, namespace, name);
      deleted.push(`${kind}/${namespace}/${name}`);
    },
    createToken(namespace, serviceAccount) {
      calls.push({ verb: 'create', group: '', resource: 'serviceaccounts/token', namespace, name: serviceAccount });
      return `token-of-${namespace}-${serviceAccount}`;
    },
    logs(namespace, name) {
      request('get', 'job', namespace, name);
      request('list', 'pods', namespace);
      calls.push({ verb: 'get', group: '', resource: 'pods/log', namespace, name: `${name}-x` });
      if (!job || name !== job.name || namespace !== 'scale-day') throw new Error(`Error from server (NotFound): job ${name}`);
      // Killed at the Job's deadline: no summary printed (the conservative reading of a terminated k6).
      if (options.k6Crashes || jobState() === 'failed') return 'time="2026-12-05T02:00:01Z" level=error msg="GoError: dial tcp: lookup production-ingress: i/o timeout"\n';
      const e = job.env;
      const window = Number(e.WINDOW);
      const total = Number(e.RAMP_UP) + Number(e.HOLD) + Number(e.RAMP_DOWN);
      const windows = [];
      let requests = 0;
      let failed = 0;
      let worstP95 = 0;
      for (let t = 0; t < total; t += window) {
        const at = job.start + (t + window / 2) * 1000;
        const load = rateAt(at);
        const capacity = history(at) * options.podRps;
        const over = capacity > 0 ? load / capacity : 10;
        // Saturated pods answer slower first (CPU throttling), then time out: errors past 1.5× what they serve.
        const p95 = Math.min(10_000, Math.round(40 * (1 + Math.max(0, over - 0.7) * 4)));
        const errorRate = over > 1.5 ? Math.min(1, (over - 1.5) / over) : 0;
        const n = Math.round(load * window);
        requests += n;
        failed += n * errorRate;
        worstP95 = Math.max(worstP95, p95);
        windows.push({ t, seconds: window, requests: n, errorRate, p95Ms: p95 });
      }
      // k6's run-wide p95 sits at or below the worst window's.
      return `     data_received...: 1 MB\nSCALE_DAY_SUMMARY ${JSON.stringify({ windows, totals: { requests, errorRate: requests > 0 ? failed / requests : 0, p95Ms: worstP95 } })}\n`;
    },
  };
  // Ready pods at a past instant, from the samples this fake took of itself.
  const readyLog: Array<{ at: number; ready: number }> = [];
  const history = (at: number): number => [...readyLog].reverse().find((r) => r.at <= at)?.ready ?? options.minReplicas;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      const to = now + ms;
      for (let at = now + 1000; at <= to; at += 1000) {
        advance(at);
        readyLog.push({ at, ready: pods.filter((p) => podReady(p, at)).length });
      }
    },
  };
  return { kube, clock, applied, deleted, requests: calls, decisions };
}

import { execFileSync } from 'node:child_process';
import type { ClusterDefinition, Platform } from '@platform/platform-config';
import { FakeKubeApi } from '../fake-kube-api';
import { BarmanStore } from './barman-store';
import { CNPG, FakeCnpg, HEALTHY } from './cnpg';
import { deploymentController } from './deployments';
import { FakeFlux } from './flux';
import { FakeIngressApp, resolveInProcess } from './ingress-app';
import type { Obj } from './patch';
import { crdSchema, type Schema } from './schema';

/** One cluster of the fake world: its API server and the controllers that run in it. */
export interface FakeCluster {
  readonly cluster: ClusterDefinition;
  readonly api: FakeKubeApi;
  readonly flux: FakeFlux;
  readonly cnpg: FakeCnpg;
  ingress?: FakeIngressApp;
}

export interface WorldProps {
  readonly repoRoot: string;
  readonly platform: Platform;
  readonly clusters: readonly ClusterDefinition[];
  /** @default 300 */
  readonly tickMs?: number;
  /** @default 5 (Flux reconciles every 5 ticks) */
  readonly fluxIntervalTicks?: number;
}

export function crdSchemas(repoRoot: string): Map<string, Schema> {
  return new Map([
    ['clusters.postgresql.cnpg.io', crdSchema(repoRoot, 'postgresql.cnpg.io', 'clusters', 'v1')],
    ['backups.postgresql.cnpg.io', crdSchema(repoRoot, 'postgresql.cnpg.io', 'backups', 'v1')],
    ['kustomizations.kustomize.toolkit.fluxcd.io', crdSchema(repoRoot, 'kustomize.toolkit.fluxcd.io', 'kustomizations', 'v1')],
  ]);
}

/**
 * Both clusters of a failover pair as fakes: an API server each, Flux syncing the generated
 * `clusters/<name>/` from the working tree, CloudNativePG, the Deployment controller, and one
 * barman object store for both regions with S3 replication of each cluster's backup bucket into
 * its replica bucket (platform-config names).
 */
export class FakeWorld {
  readonly store = new BarmanStore();

  private constructor(readonly clusters: readonly FakeCluster[]) {}

  static async start(props: WorldProps): Promise<FakeWorld> {
    const schemas = crdSchemas(props.repoRoot);
    let revision = 'main@sha1:unknown';
    try {
      revision = `main@sha1:${execFileSync('git', ['rev-parse', 'HEAD'], { cwd: props.repoRoot, encoding: 'utf8' }).trim()}`;
    } catch {
      // not a Git checkout: the revision is only reported
    }
    const world = new FakeWorld([]);
    const store = world.store;
    for (const c of props.clusters) {
      const names = props.platform.namesOf(c);
      if (names.appBackupReplicaBucket) store.replicate(names.appBackupBucket, names.appBackupReplicaBucket);
    }
    const clusters: FakeCluster[] = [];
    for (const cluster of props.clusters) {
      const api = await FakeKubeApi.start(cluster.name, [], { tickMs: props.tickMs ?? 300, schemas });
      const flux = new FakeFlux(api, props.repoRoot, revision, props.fluxIntervalTicks ?? 5);
      const cnpg = new FakeCnpg(api, { store });
      api.addController(deploymentController);
      flux.bootstrap(cluster.name);
      clusters.push({ cluster, api, flux, cnpg });
    }
    (world as { clusters: readonly FakeCluster[] }).clusters = clusters;
    return world;
  }

  get(name: string): FakeCluster {
    const c = this.clusters.find((x) => x.cluster.name === name);
    if (!c) throw new Error(`no fake cluster ${name}`);
    return c;
  }

  /** Serves `name`'s app on `address`:80 and resolves `dnsName` (its NLB) there, in this process. */
  async serveIngress(name: string, dnsName: string, address: string, host: string, workload: { namespace: string; database: string; appNamespace: string; deployment: string }): Promise<FakeIngressApp> {
    const c = this.get(name);
    c.ingress = await FakeIngressApp.start({ address, host, api: c.api, cnpg: c.cnpg, app: { namespace: workload.appNamespace, name: workload.deployment }, database: { namespace: workload.namespace, name: workload.database } });
    resolveInProcess(dnsName, address);
    return c.ingress;
  }

  async stop(): Promise<void> {
    for (const c of this.clusters) {
      await c.ingress?.down();
      await c.api.stop();
    }
  }

  /** Polls `check` every 200 ms until it returns a value or `seconds` pass. */
  static async until<T>(what: string, seconds: number, check: () => T | undefined): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A CNPG Cluster's live object. */
  database(name: string, namespace: string, database: string): Obj | undefined {
    return this.get(name).api.read({ apiVersion: CNPG, kind: 'Cluster', namespace, name: database });
  }

  /** Whether a CNPG Cluster reports healthy. */
  healthy(name: string, namespace: string, database: string): boolean {
    return ((this.database(name, namespace, database)?.status ?? {}) as Obj).phase === HEALTHY;
  }
}

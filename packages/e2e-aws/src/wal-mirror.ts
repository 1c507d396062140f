import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsCli } from './aws-cli';
import type { BarmanStore, WalObject } from './fake-kube/barman-store';

/**
 * Puts every WAL object the fake barman store announces (src/fake-kube/barman-store.ts) into
 * moto's S3 with the real AWS CLI, so `failover promote`'s archive-freshness lists what
 * barman-cloud would have written (keys, LastModified). The body is a stand-in: the tool reads
 * names and times only. `flush()` waits for the puts; `removeAll()` deletes every version again
 * (a versioned bucket with objects does not destroy) and puts back each bucket's policy, which is
 * lifted before the first put (FAILOVER_WORKAROUNDS: moto answers object requests to a bucket
 * with the TlsOnly Deny 403, as for the boot phase's buckets).
 */
export class WalMirror {
  private readonly pending = new Set<Promise<void>>();
  readonly put: WalObject[] = [];
  readonly errors: string[] = [];
  private readonly body: string;

  /** Whether removeAll ran to its end. */
  removed = false;

  constructor(
    private readonly aws: AwsCli,
    private readonly store: BarmanStore,
    dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.body = join(dir, 'wal-segment-stand-in');
    writeFileSync(this.body, 'e2e stand-in for a gzip-compressed WAL segment\n');
    store.onWalObject = (object) => {
      const p = this.regionOf(object.bucket)
        .then(async (region) => {
          await this.liftPolicy(object.bucket, region);
          await this.aws('s3api', 'put-object', '--region', region, '--bucket', object.bucket, '--key', object.key, '--body', this.body);
        })
        .then(
        () => void this.put.push(object),
        (error: Error) => void this.errors.push(`s3://${object.bucket}/${object.key}: ${error.message.split('\n')[0]}`),
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    };
  }

  private readonly regions = new Map<string, Promise<string>>();
  /** Each bucket's policy as it was before the first put (undefined: it had none), lifted once. */
  private readonly policies = new Map<string, Promise<string | undefined>>();

  private liftPolicy(bucket: string, region: string): Promise<string | undefined> {
    let policy = this.policies.get(bucket);
    if (!policy) {
      policy = (async () => {
        const read = await this.aws('s3api', 'get-bucket-policy', '--region', region, '--bucket', bucket, '--output', 'json').then(
          (out) => (JSON.parse(out) as { Policy: string }).Policy,
          (error: Error) => {
            if (/NoSuchBucketPolicy/.test(error.message)) return undefined;
            throw error;
          },
        );
        if (read !== undefined) await this.aws('s3api', 'delete-bucket-policy', '--region', region, '--bucket', bucket);
        return read;
      })();
      this.policies.set(bucket, policy);
    }
    return policy;
  }

  /** The bucket's region as S3 reports it (GetBucketLocation; an empty constraint is us-east-1). */
  private regionOf(bucket: string): Promise<string> {
    let region = this.regions.get(bucket);
    if (!region) {
      region = this.aws('s3api', 'get-bucket-location', '--bucket', bucket, '--output', 'json').then((out) => (JSON.parse(out) as { LocationConstraint?: string | null }).LocationConstraint || 'us-east-1');
      this.regions.set(bucket, region);
    }
    return region;
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops taking the store's WAL objects: nothing archived afterwards is put (removeAll would miss it). */
  detach(): void {
    this.store.onWalObject = undefined;
  }

  /**
   * Detaches, removes every version of every object put, puts each lifted policy back and reads
   * it back: per bucket, whether the policy is byte-equal to the one read before the first put.
   */
  async removeAll(): Promise<{ bucket: string; equal: boolean }[]> {
    this.detach();
    await this.flush();
    for (const bucket of new Set(this.put.map((o) => o.bucket))) {
      for (const key of new Set(this.put.filter((o) => o.bucket === bucket).map((o) => o.key))) {
        const region = await this.regionOf(bucket);
        const listed = JSON.parse(await this.aws('s3api', 'list-object-versions', '--region', region, '--bucket', bucket, '--prefix', key, '--output', 'json')) as { Versions?: { Key: string; VersionId: string }[]; DeleteMarkers?: { Key: string; VersionId: string }[] };
        for (const v of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].filter((x) => x.Key === key)) {
          await this.aws('s3api', 'delete-object', '--region', region, '--bucket', bucket, '--key', key, '--version-id', v.VersionId);
        }
      }
    }
    const restored: { bucket: string; equal: boolean }[] = [];
    for (const [bucket, policy] of this.policies) {
      const before = await policy.catch(() => undefined);
      if (before === undefined) continue;
      const region = await this.regionOf(bucket);
      await this.aws('s3api', 'put-bucket-policy', '--region', region, '--bucket', bucket, '--policy', before);
      const after = (JSON.parse(await this.aws('s3api', 'get-bucket-policy', '--region', region, '--bucket', bucket, '--output', 'json')) as { Policy: string }).Policy;
      restored.push({ bucket, equal: after === before });
    }
    this.removed = true;
    return restored;
  }
}

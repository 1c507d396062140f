import type { Chart } from 'cdk8s';
import { AddOnBase, type AddOnContext } from '../addon';
import {
  Cluster,
  ClusterSpecBackupBarmanObjectStoreDataCompression,
  ClusterSpecBackupBarmanObjectStoreWalCompression,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecPrimaryUpdateStrategy,
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
} from '../imports/postgresql.cnpg.io';
import { ownNamespace } from '../private/namespace';
import { ZONE_KEY } from '../scheduling';
import { CloudNativePgOperator } from './cloudnative-pg';
import { GP3_STORAGE_CLASS } from './ebs-csi';

export interface PostgresProps {
  /** @default 'orders' */
  readonly name: string;
  /** @default 'data' */
  readonly namespace: string;
  /** One primary plus replicas, each in a different zone. @default 3 */
  readonly instances: number;
  /** @default 'ghcr.io/cloudnative-pg/postgresql:17.6' */
  readonly imageName: string;
  /** @default '20Gi' */
  readonly storage: string;
  /** Six-field cron (seconds first) for base backups. @default '0 0 3 * * *' */
  readonly backupSchedule: string;
  /** @default '30d' */
  readonly retentionPolicy: string;
  /** Secret with ACCESS_KEY_ID / ACCESS_SECRET_KEY for the backup bucket (pods cannot reach IMDS). @default 'postgres-backup-s3' */
  readonly s3CredentialsSecret: string;
}

/**
 * A 3-instance PostgreSQL cluster (CloudNativePG): instances pinned to different zones by a
 * required zone anti-affinity (instances are fixed, not autoscaled, so the cap is the point),
 * one synchronous standby so a failover loses no committed transaction, and the operator
 * promoting the most up-to-date replica when the primary fails. WAL archiving and scheduled
 * base backups go to the cluster's app backup bucket (names.appBackupBucket).
 */
export class PostgresCluster extends AddOnBase<PostgresProps> {
  readonly id = 'postgres';
  readonly layer = 'apps' as const;
  override readonly dependencies = [CloudNativePgOperator];

  protected defaults(): PostgresProps {
    return {
      name: 'orders',
      namespace: 'data',
      instances: 3,
      imageName: 'ghcr.io/cloudnative-pg/postgresql:17.6',
      storage: '20Gi',
      backupSchedule: '0 0 3 * * *',
      retentionPolicy: '30d',
      s3CredentialsSecret: 'postgres-backup-s3',
    };
  }

  protected override check(props: PostgresProps, ctx: AddOnContext): void {
    const zones = ctx.cluster.availabilityZones.length;
    if (!Number.isInteger(props.instances) || props.instances < 3 || props.instances > zones) {
      this.fail('instances', props.instances, `expected 3 to ${zones} (one per Availability Zone, required anti-affinity)`);
    }
    if (props.backupSchedule.trim().split(/\s+/).length !== 6) this.fail('backupSchedule', props.backupSchedule, 'expected a six-field cron expression (seconds first)');
    if (!/^\d+[dwm]$/.test(props.retentionPolicy)) this.fail('retentionPolicy', props.retentionPolicy, 'expected a duration such as 30d');
  }

  protected render(chart: Chart, props: PostgresProps, ctx: AddOnContext): void {
    ownNamespace(chart, props.namespace);
    const credential = (key: string) => ({ name: props.s3CredentialsSecret, key });
    new Cluster(chart, 'Cluster', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        instances: props.instances,
        imageName: props.imageName,
        primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        failoverDelay: 0,
        postgresql: { synchronous: { method: ClusterSpecPostgresqlSynchronousMethod.ANY, number: 1 } },
        storage: { storageClass: GP3_STORAGE_CLASS, size: props.storage },
        affinity: { enablePodAntiAffinity: true, topologyKey: ZONE_KEY, podAntiAffinityType: 'required' },
        backup: {
          retentionPolicy: props.retentionPolicy,
          barmanObjectStore: {
            destinationPath: `s3://${ctx.names.appBackupBucket}/postgres/${props.name}`,
            s3Credentials: { accessKeyId: credential('ACCESS_KEY_ID'), secretAccessKey: credential('ACCESS_SECRET_KEY') },
            wal: { compression: ClusterSpecBackupBarmanObjectStoreWalCompression.GZIP },
            data: { compression: ClusterSpecBackupBarmanObjectStoreDataCompression.GZIP },
          },
        },
      },
    });
    new ScheduledBackup(chart, 'Backup', {
      metadata: { name: `${props.name}-daily`, namespace: props.namespace },
      spec: {
        schedule: props.backupSchedule,
        immediate: true,
        backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
        method: ScheduledBackupSpecMethod.BARMAN_OBJECT_STORE,
        cluster: { name: props.name },
      },
    });
  }
}

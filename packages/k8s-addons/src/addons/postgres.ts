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
  /**
   * Must be the backup Secret's (pods read Secrets of their own namespace only).
   * @default names.appBackupCredentials.namespace ('data')
   */
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
}

/**
 * A 3-instance PostgreSQL cluster (CloudNativePG): instances pinned to different zones by a
 * required zone anti-affinity (instances are fixed, not autoscaled, so the cap is the point),
 * one synchronous standby so a failover loses no committed transaction, and the operator
 * promoting the most up-to-date replica when the primary fails. WAL archiving and scheduled
 * base backups go to the cluster's app backup bucket (names.appBackupBucket), which Terraform
 * replicates to the standby's region. S3 keys come from the Secret names.appBackupCredentials
 * (pods cannot reach IMDS; the first control-plane node writes it from SSM): its name is not a
 * prop, because the node bootstrap and a restore on the standby must find the same Secret.
 */
export class PostgresCluster extends AddOnBase<PostgresProps> {
  readonly id = 'postgres';
  readonly layer = 'apps' as const;
  override readonly dependencies = [CloudNativePgOperator];

  protected defaults(ctx: AddOnContext): PostgresProps {
    return {
      name: 'orders',
      namespace: ctx.names.appBackupCredentials.namespace,
      instances: 3,
      imageName: 'ghcr.io/cloudnative-pg/postgresql:17.6',
      storage: '20Gi',
      backupSchedule: '0 0 3 * * *',
      retentionPolicy: '30d',
    };
  }

  protected override check(props: PostgresProps, ctx: AddOnContext): void {
    const zones = ctx.cluster.availabilityZones.length;
    if (!Number.isInteger(props.instances) || props.instances < 3 || props.instances > zones) {
      this.fail('instances', props.instances, `expected 3 to ${zones} (one per Availability Zone, required anti-affinity)`);
    }
    if (props.backupSchedule.trim().split(/\s+/).length !== 6) this.fail('backupSchedule', props.backupSchedule, 'expected a six-field cron expression (seconds first)');
    if (!/^\d+[dwm]$/.test(props.retentionPolicy)) this.fail('retentionPolicy', props.retentionPolicy, 'expected a duration such as 30d');
    const credentials = ctx.names.appBackupCredentials;
    if (props.namespace !== credentials.namespace) {
      this.fail('namespace', props.namespace, `expected "${credentials.namespace}", the namespace of the backup Secret ${credentials.secretName} (pods read Secrets of their own namespace only)`);
    }
  }

  protected render(chart: Chart, props: PostgresProps, ctx: AddOnContext): void {
    ownNamespace(chart, props.namespace);
    const credentials = ctx.names.appBackupCredentials;
    const credential = (key: string) => ({ name: credentials.secretName, key });
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
            // Below the prefix the backup user may write (names.appBackupCredentials.bucketPrefix).
            destinationPath: `s3://${ctx.names.appBackupBucket}/${credentials.bucketPrefix}${props.name}`,
            s3Credentials: { accessKeyId: credential(credentials.keys.accessKeyId), secretAccessKey: credential(credentials.keys.secretAccessKey) },
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

import type { Workload } from '../database';
import { takeBackup } from '../private/backup';
import type { Side } from '../private/kube';
import type { Step, StepContext } from '../step';

/**
 * A promoted or restored database archives WAL on a new timeline under a new server name whose
 * folder holds no base backup: until one exists that folder cannot be restored from, and the
 * daily ScheduledBackup may be up to a day away. An on-demand CNPG Backup (method
 * barmanObjectStore) right after users are moved closes that gap; its barman backup id goes to
 * the journal. It runs after DNS moved, so it never adds to the outage. It lands where the
 * cluster archives (platform-config appWalArchive: a failover primary's bucket in the standby's region).
 */
export class BaseBackup implements Step {
  readonly name = 'base-backup';
  readonly verifies = 'an on-demand CNPG Backup (method barmanObjectStore) of the database that now serves reaches status.phase completed: the new timeline has its own base backup';

  constructor(private readonly props: { readonly side: Side; readonly workload: Workload }) {}

  async run(ctx: StepContext): Promise<void> {
    const cluster = ctx[this.props.side];
    const taken = await takeBackup(ctx, cluster, this.props.workload, 'base');
    if (!taken.backupId) return;
    ctx.note(`base backup ${taken.name} on ${cluster.name}: backupId ${taken.backupId}, completed ${taken.stoppedAt ?? '(no stoppedAt)'}, in ${ctx.namesOf(cluster).appDatabaseStore.bucket}`);
  }
}

import type { RegionRpo } from '../report-types';

const opt = (v: number | undefined): string => (v === undefined ? '?' : `${v} min`);

/** The regional RPO with every term: `16 min = database 1 min + replication lag 15 min (etcd not restored: …)`, or `2 min = database 1 min + archiver 1 min + replication lag 0 min (…)`. */
export function rpoFigure(rpo: RegionRpo): string {
  const database = rpo.databaseMinutes === undefined ? undefined : rpo.databaseMinutes === null ? 'database NOT replicated' : `database ${rpo.databaseMinutes} min`;
  const lag = `${rpo.archiverMinutes !== undefined ? `archiver ${rpo.archiverMinutes} min + ` : ''}replication lag ${opt(rpo.replicationLagMinutes)}${rpo.archiverMinutes !== undefined ? ' (archive written straight into the standby region)' : ''}`;
  if (!rpo.etcdRestored) {
    const standby = 'etcd not restored: the standby runs its own control plane';
    return database ? `${opt(rpo.minutes)} = ${database} + ${lag} (${standby})` : `${opt(rpo.minutes)} = ${lag} (no replicated database archive; ${standby})`;
  }
  return `${opt(rpo.minutes)} = max(etcd ${opt(rpo.etcdMinutes)}${database ? `, ${database}` : ''}) + ${lag}`;
}

import type { Platform } from '@platform/platform-config';
import { addOnContext, type AddOn } from './addon';
import { Cilium } from './addons/cilium';
import { AwsCloudControllerManager } from './addons/cloud-controller';
import { CloudNativePgOperator } from './addons/cloudnative-pg';
import { ClusterAutoscaler } from './addons/cluster-autoscaler';
import { CoreDns } from './addons/coredns';
import { EbsCsiDriver } from './addons/ebs-csi';
import { FailoverAccess } from './addons/failover-access';
import { FailoverDatabaseAccess } from './addons/failover-database-access';
import { Flux } from './addons/flux';
import { FluxAlerts } from './addons/flux-alerts';
import { IngressController } from './addons/ingress-controller';
import { MetricsServer } from './addons/metrics-server';
import { Monitoring } from './addons/monitoring';
import { MonitoringAlerts } from './addons/monitoring-alerts';
import { NodeTerminationHandler } from './addons/node-termination-handler';
import { PostgresCluster } from './addons/postgres';
import { SampleWebService } from './addons/sample-web';
import { ScaleDayAccess } from './addons/scale-day-access';
import type { ClusterTree } from './private/render';
import { AddOnRegistry } from './registry';

/** Every cluster's add-ons, the pilot-light dr included (it scales by worker ASGs, not manifests). */
export function defaultAddOns(): AddOn[] {
  return [
    new Flux(),
    new FailoverAccess(),
    new Cilium(),
    new AwsCloudControllerManager(),
    new EbsCsiDriver(),
    new ClusterAutoscaler(),
    new NodeTerminationHandler(),
    new MetricsServer(),
    new CoreDns(),
    new IngressController(),
    new Monitoring(),
    new CloudNativePgOperator(),
    new MonitoringAlerts(),
    new FluxAlerts(),
    new SampleWebService(),
    new PostgresCluster(),
    new FailoverDatabaseAccess(),
    new ScaleDayAccess(),
  ];
}

/** The files of `clusters/<cluster>/`, relative to that folder. */
export function synthClusterTree(platform: Platform, cluster: string, addOns: readonly AddOn[] = defaultAddOns()): ClusterTree {
  return new AddOnRegistry(addOns).synth(addOnContext(platform, cluster));
}

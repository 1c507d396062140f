import type { DeployedApp } from '@platform/platform-config';
import type { HaWorkloadProps } from './ha-workload';

/** The HaWorkload props an application catalog entry decides: image by digest, HPA bounds and resources. */
export function catalogWorkloadProps(app: DeployedApp): Pick<HaWorkloadProps, 'image' | 'minReplicas' | 'maxReplicas' | 'targetCpuPercent' | 'cpuMillis' | 'memoryMebibytes' | 'cpuLimitMillis' | 'memoryLimitMebibytes'> {
  return {
    image: app.image,
    minReplicas: app.scaling.minReplicas,
    maxReplicas: app.scaling.maxReplicas,
    targetCpuPercent: app.scaling.targetCpuPercent,
    cpuMillis: app.resources.requests.cpuMilli,
    memoryMebibytes: app.resources.requests.memoryMiB,
    cpuLimitMillis: app.resources.limits.cpuMilli,
    memoryLimitMebibytes: app.resources.limits.memoryMiB,
  };
}

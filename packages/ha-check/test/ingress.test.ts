import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck, type AzScenario } from '../src';
import { writeFixture } from './helpers';

type Tf = { resource: Record<string, Record<string, Record<string, unknown>>> };

/** The HA fixture with its Terraform edited the way a change to the ingress would. */
function checkEdited(edit: (tf: Tf) => void, objectives = DEFAULT_OBJECTIVES) {
  const paths = writeFixture({});
  const file = join(paths.terraform, 'cdk.tf.json');
  const tf = JSON.parse(readFileSync(file, 'utf8')) as Tf;
  edit(tf);
  writeFileSync(file, JSON.stringify(tf));
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives });
}
const lostA = (report: ReturnType<typeof checkEdited>) => report.scenarios.find((s) => s.id === 'az-loss:ap-northeast-2a') as AzScenario;

describe('app ingress', () => {
  it('an internet-facing ALB on 80/443 is the ingress (cross-zone always on for an ALB)', () => {
    const report = checkEdited((tf) => {
      tf.resource.aws_lb.ingress.load_balancer_type = 'application';
      tf.resource.aws_lb.ingress.enable_cross_zone_load_balancing = false;
    });
    expect(lostA(report).ingress).toMatchObject({ reachable: true, loadBalancer: 'fixture-ingress', targetsLeft: 4, rtoSeconds: 20 });
    expect(report.findings.find((f) => f.id === 'nlb.cross-zone-off')).toBeUndefined();
  });

  it('an internal load balancer on 80/443 is not a public entry point: no ingress is judged through it', () => {
    const report = checkEdited((tf) => {
      tf.resource.aws_lb.ingress.internal = true;
    });
    expect(lostA(report).ingress).toBeUndefined();
    expect(report.topology.every((t) => !t.ingressLoadBalancer)).toBe(true);
  });

  it('health-check detection alone above the app RTO (30 s × 3 = 90 s > 60 s) is an error', () => {
    const report = checkEdited(
      (tf) => {
        tf.resource.aws_lb_target_group.ingress_http.health_check = { protocol: 'HTTP', path: '/ping', port: '30080', interval: 30, healthy_threshold: 3, unhealthy_threshold: 3 };
      },
      { ...DEFAULT_OBJECTIVES, appRtoSeconds: 60 },
    );
    expect(lostA(report).ingress?.rtoSeconds).toBe(90);
    const f = report.findings.find((x) => x.id === 'ingress.detection-exceeds-rto');
    expect(f).toMatchObject({ severity: 'error', subject: 'fixture-ingress' });
    expect(f?.message).toContain('≈ 90 s (health check interval × unhealthy threshold), above the app RTO of 60 s');
    expect(report.summary.objectivesMet).toBe(false);
  });

  it('the fixture’s 10 s × 2 stays within a 60 s app RTO', () => {
    expect(checkEdited(() => undefined, { ...DEFAULT_OBJECTIVES, appRtoSeconds: 60 }).findings.find((x) => x.id === 'ingress.detection-exceeds-rto')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, formatMarkdown, runHaCheck, type AzScenario, type Objectives } from '../src';
import { editedTerraform, runCli, writeFixture, type TerraformDoc } from './helpers';

const check = (options: Parameters<typeof writeFixture>[0], objectives: Objectives = DEFAULT_OBJECTIVES) => {
  const paths = writeFixture(options);
  return runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives });
};
const blocked = (report: ReturnType<typeof check>) => report.findings.filter((f) => f.id === 'flow.blocked');

describe('network flows', () => {
  it('the target design (internal NLB behind a private zone, SGs per flow) passes every flow in every state', () => {
    const report = check({ dns: { role: 'PRIMARY' } }, { ...DEFAULT_OBJECTIVES, apiAllowedCidrs: ['203.0.113.0/24'] });
    expect(blocked(report)).toEqual([]);
    expect(report.summary.objectivesMet).toBe(true);
    expect([...new Set(report.flows.map((f) => f.id))].sort()).toEqual(['cni-health', 'cni-icmp', 'cni-vxlan', 'etcd-peers', 'health-checker-ingress', 'ingress-nodeports', 'kubelet', 'node-to-api', 'operator-to-api']);
    const toApi = report.flows.find((f) => f.id === 'node-to-api' && f.from === 'fixture-general-b');
    expect(toApi).toMatchObject({ ok: true, to: 'api.fixture.internal' });
    expect(toApi?.path).toEqual(['fixture-general-b', 'DNS api.fixture.internal', 'alias → fixture-api-int', 'local route (VPC)', 'fixture-api-int (internal NLB)', 'fixture-api-int → fixture-control-plane-a:6443']);
    for (const s of report.scenarios.filter((x): x is AzScenario => x.kind === 'az-loss')) {
      expect(s.flows.blocked).toEqual([]);
      expect(s.flows.decided).toBeGreaterThan(50);
    }
    expect(formatMarkdown(report)).toContain('#### Network flows');
  });

  it("today's shape: nodes configured with the internet-facing NLB leave through their NAT, whose Elastic IP the API security group drops", () => {
    const report = check({ apiEndpoint: 'public-nlb' });
    const [finding] = blocked(report);
    expect(finding).toMatchObject({ severity: 'error', subject: 'node → API endpoint: security group fixture-api-public of fixture-api' });
    expect(finding.message).toMatch(/dropped in the normal state .*admits no traffic from the NAT Elastic IP of fixture-nat-a on TCP 6443/);
    expect(finding.fix).toMatch(/internal load balancer .* or admit the NAT Elastic IPs \(\/32\)/);
    expect(report.flows.find((f) => f.id === 'node-to-api')?.path).toEqual(['fixture-control-plane-a', 'fixture-nat-a (NAT in ap-northeast-2a)', 'fixture-api (internet-facing NLB)']);
    expect(report.summary.objectivesMet).toBe(false);
  });

  it('an endpoint through one NAT is lost with that NAT: only the AZ-loss scenario drops it (AZ rule)', () => {
    const report = check({ apiEndpoint: 'public-nlb', apiAdmitsNatEips: true, nat: 'single' });
    expect(report.flows.filter((f) => f.id === 'node-to-api').every((f) => f.ok)).toBe(true);
    const f = blocked(report).find((x) => x.subject.startsWith('node → API endpoint'));
    expect(f).toMatchObject({ severity: 'error', subject: 'node → API endpoint: fixture-nat-a', scenarios: ['az-loss:ap-northeast-2a'] });
    expect(f?.message).toMatch(/after losing ap-northeast-2a at fixture-nat-a: its only way out is the NAT in the lost AZ/);
    const lost = report.scenarios.find((s) => s.id === 'az-loss:ap-northeast-2a') as AzScenario;
    expect(lost.survives).toBe(false);
    expect(lost.problems.some((p) => p.startsWith('node → API endpoint dropped: fixture-general-b'))).toBe(true);
    // Per-AZ NAT and the EIPs admitted: every state passes.
    expect(blocked(check({ apiEndpoint: 'public-nlb', apiAdmitsNatEips: true }))).toEqual([]);
  });

  it('an internal endpoint in a private zone the nodes cannot resolve (zone of another VPC)', () => {
    const [f] = blocked(check({ networkFault: 'private-zone-unassociated' }));
    expect(f).toMatchObject({ severity: 'error', subject: 'node → API endpoint: DNS api.fixture.internal' });
    expect(f.message).toMatch(/only in a private hosted zone not associated with the nodes' VPC/);
    expect(f.fix).toMatch(/private hosted zone associated with the cluster's VPC/);
  });

  it('the ingress load balancer cannot reach the NodePorts', () => {
    const findings = blocked(check({ networkFault: 'nodeports-closed', dns: { role: 'PRIMARY' } }));
    expect(findings.map((f) => f.subject).sort()).toEqual(['Route 53 health checker → ingress: security group fixture-worker', 'ingress LB → NodePorts: security group fixture-worker']);
    expect(findings[0].message).toMatch(/fixture-worker of fixture-general-[abc] admits no traffic from fixture-ingress on TCP 30080/);
  });

  it('the kubelet port closed to the control plane', () => {
    const [f] = blocked(check({ networkFault: 'kubelet-closed' }));
    expect(f).toMatchObject({ severity: 'error', subject: 'control plane → kubelet: security group fixture-control-plane' });
    expect(f.message).toMatch(/TCP 10250/);
  });

  it('etcd peer ports closed between AZs (admitted only from the first AZ\'s subnet)', () => {
    const report = check({ networkFault: 'etcd-same-subnet' });
    const f = blocked(report).find((x) => x.subject.startsWith('control plane ↔ control plane (etcd 2380)'));
    expect(f?.severity).toBe('error');
    expect(f?.message).toMatch(/fixture-control-plane of fixture-control-plane-a admits no TCP 2380 from fixture-control-plane-b/);
    // From the admitted subnet the peers are reached.
    expect(report.flows.find((x) => x.id === 'etcd-peers' && x.from === 'fixture-control-plane-a' && x.to === 'fixture-control-plane-b')?.ok).toBe(true);
  });

  it("Route 53's health checkers are public: an ingress security group admitting only the VPC drops them", () => {
    const findings = blocked(check({ networkFault: 'health-checker-blocked', dns: { role: 'PRIMARY' } }));
    const f = findings.find((x) => x.subject.startsWith('Route 53 health checker'));
    expect(f?.subject).toBe('Route 53 health checker → ingress: security group fixture-ingress of fixture-ingress');
    expect(f?.fix).toMatch(/route53-healthchecks prefix list/);
  });

  it('no ICMP between nodes degrades Cilium health only: a warning, not an error', () => {
    const report = check({ networkFault: 'no-icmp' });
    expect(blocked(report).every((f) => f.severity === 'warning')).toBe(true);
    expect(blocked(report).length).toBeGreaterThan(0);
    expect(report.summary.objectivesMet).toBe(true);
  });

  describe('an internal ingress load balancer behind the public app record (issue #13 B2)', () => {
    const internalIngress = (doc: TerraformDoc): void => {
      doc.resource.aws_lb.ingress.internal = true;
    };
    const analyse = (f: { terraform: string; manifests: string }) => runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: DEFAULT_OBJECTIVES });

    it('the health checker and the clients cannot reach it: errors naming the flow, the hop and the fix; the report fails', () => {
      const report = analyse(editedTerraform(internalIngress, { dns: { role: 'PRIMARY' } }));
      const findings = blocked(report).filter((f) => f.subject.endsWith('fixture-ingress (internal)'));
      expect(findings.map((f) => [f.subject, f.severity]).sort()).toEqual([
        ['Route 53 health checker → ingress: fixture-ingress (internal)', 'error'],
        ['ingress LB → NodePorts: fixture-ingress (internal)', 'error'],
      ]);
      expect(findings[0].message).toMatch(/fixture-ingress is internal: its DNS name resolves to private addresses in the VPC/);
      expect(findings[0].fix).toMatch(/Make fixture-ingress internet-facing \(internal = false\)/);
      expect(report.summary.objectivesMet).toBe(false);
    });

    it('it stays the app ingress in the AZ scenarios (never "no ingress")', () => {
      const report = analyse(editedTerraform(internalIngress, { dns: { role: 'PRIMARY' } }));
      for (const s of report.scenarios.filter((x): x is AzScenario => x.kind === 'az-loss')) expect(s.ingress).toBeDefined();
    });

    it('an internal web load balancer no public record or health check points at is not the ingress and blocks nothing', () => {
      const report = analyse(editedTerraform(internalIngress, { dns: null }));
      expect(blocked(report).filter((f) => /fixture-ingress/.test(f.subject))).toEqual([]);
    });

    it('an expression-valued `internal` is bad input (exit 2), never guessed internet-facing', async () => {
      const f = editedTerraform((doc) => {
        doc.resource.aws_lb.ingress.internal = '${var.ingress_internal}';
      });
      const r = await runCli(['--terraform', f.terraform, '--manifests', f.manifests]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('aws_lb.ingress: internal: expected a literal true or false (the scheme decides who can reach the load balancer), got "${var.ingress_internal}"');
    });
  });

  describe('NLB hairpin: the control plane reaching the API through the NLB it is a target of (issue #13 B3)', () => {
    // Deleting the shipped `preserve_client_ip: false` leaves AWS's default for instance targets: preserved.
    const preserved = (doc: TerraformDoc): void => {
      delete doc.resource.aws_lb_target_group.api_internal.preserve_client_ip;
    };
    const analyse = (f: { terraform: string; manifests: string }) => runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: DEFAULT_OBJECTIVES });

    it('node → API from a control-plane node is blocked at the target group (hairpin), workers still pass', () => {
      const report = analyse(editedTerraform(preserved));
      const f = blocked(report).find((x) => x.subject.startsWith('node → API endpoint'));
      expect(f).toMatchObject({ severity: 'error', subject: 'node → API endpoint: target group fixture-api-int (client IP preservation)' });
      expect(f?.message).toMatch(/hairpin: the target is its own client: fixture-control-plane-a is registered with fixture-api-int/);
      expect(f?.fix).toMatch(/Set preserve_client_ip = false on fixture-api-int/);
      const toApi = report.flows.filter((x) => x.id === 'node-to-api');
      expect(toApi.filter((x) => !x.ok).map((x) => x.from).sort()).toEqual(['fixture-control-plane-a', 'fixture-control-plane-b', 'fixture-control-plane-c']);
      expect(toApi.filter((x) => x.from.startsWith('fixture-general')).every((x) => x.ok)).toBe(true);
      expect(report.summary.objectivesMet).toBe(false);
    });

    it('day 0: the first control-plane node never registers (kubeadm init cannot reach the API through itself)', () => {
      const report = analyse(editedTerraform(preserved));
      expect(report.coldStart.firstControlPlane).toMatchObject({ node: 'fixture-control-plane-a-0', ok: false });
      expect(report.coldStart.firstControlPlane?.blockedBy[0]).toMatch(/kubeadm init on fixture-control-plane-a-0 cannot reach the API .*hairpin/);
      const cold = report.findings.find((x) => x.id === 'cold-start.blocked');
      expect(cold).toMatchObject({ severity: 'error', subject: 'first control-plane node' });
      expect(cold?.fix).toMatch(/preserve_client_ip = false/);
    });

    it('ip targets (client IP preservation off by default for TCP) or preservation off: no hairpin', () => {
      expect(blocked(analyse(editedTerraform((doc) => {
        preserved(doc);
        doc.resource.aws_lb_target_group.api_internal.target_type = 'ip';
      })))).toEqual([]);
      expect(analyse(writeFixture()).coldStart.firstControlPlane?.ok).toBe(true);
    });
  });
});

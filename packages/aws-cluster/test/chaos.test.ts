import { describe, expect, it } from 'vitest';
import { AZ_FAILURE_ACTIONS, AzFailureExperiment, azFailureTemplateId, FIS_NETWORK_POLICY, FIS_NO_CAPACITY_STATEMENTS } from '../src';
import { ClusterUnderExperiment } from './fis-model';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

describe('AzFailureExperiment', () => {
  const shipped = platform();
  const zones = shipped.cluster('production').availabilityZones;
  const production = synthCluster(shipped, 'production');
  const zoneOf = (t: Attributes) => t.target.find((x: Attributes) => x.name === 'zone-subnets').parameters.availabilityZoneIdentifier;
  // In AZ order (the synthesized JSON orders them by logical id).
  const templates = [...production.values('aws_fis_experiment_template')].sort((a, b) => zones.indexOf(zoneOf(a)) - zones.indexOf(zoneOf(b)));
  const [template] = templates;

  it('makes one template per AZ, each taking away only its zone', () => {
    expect(templates.map(zoneOf)).toEqual([...zones]);
    expect(templates).toHaveLength(zones.length);
    for (const t of templates) {
      const zone = zoneOf(t);
      const noCapacity = t.action.find((a: Attributes) => a.action_id === AZ_FAILURE_ACTIONS.noCapacity);
      expect(noCapacity.parameter).toContainEqual({ key: 'availabilityZoneIdentifiers', value: zone });
      expect(t.description).toBe(`production-az-failure: cut ${zone} off for 10 minutes, no new capacity there`);
      expect(t.tags).toEqual({ Name: 'production-az-failure' });
    }
  });

  it('keeps the construct id of the single template it made before for the first AZ, so nothing is replaced', () => {
    expect(azFailureTemplateId(zones[0], zones)).toBe('template');
    expect(azFailureTemplateId(zones[1], zones)).toBe(`template-${zones[1]}`);
    const keys = Object.keys(production.json.resource.aws_fis_experiment_template).sort();
    expect(keys).toHaveLength(zones.length);
    // cdktf logical ids end in the construct path's last id and a hash: the first is az-failure/template as before.
    expect(keys.filter((k) => /^az-failure_template_[0-9A-F]{8}$/.test(k))).toHaveLength(1);
  });

  it('stop condition: an AZ cut off is no loss of quorum, a real one is (per-node HealthyHostCount views)', () => {
    const [alarm] = production.values('aws_cloudwatch_metric_alarm').filter((a) => a.namespace !== 'AWS/Route53');
    // Cross-zone NLB: each AZ's load-balancer node health-checks every target and reports its own count.
    // With one AZ partitioned its node sees no target, the others see the targets outside that AZ.
    const views = (reachableTargets: number) => [0, reachableTargets, reachableTargets];
    const statistic = (values: number[]) => ({ Minimum: Math.min(...values), Maximum: Math.max(...values), Average: values.reduce((x, y) => x + y, 0) / values.length })[alarm.statistic as 'Minimum' | 'Maximum' | 'Average'];
    const fires = (values: number[]) => statistic(values) < alarm.threshold;
    expect(alarm.threshold).toBe(2);
    expect(fires(views(2))).toBe(false); // the game day itself: 2 of 3 API servers left, quorum kept
    expect(fires(views(1))).toBe(true); // a second server lost while the AZ is away: stop
    expect(fires([0, 0, 0])).toBe(true);
  });

  it('outputs the template id of every AZ', () => {
    const ids = production.json.output.fis_experiment_template_ids.value as Record<string, string>;
    expect(Object.keys(ids)).toEqual([...zones]);
    for (const [zone, ref] of Object.entries(ids)) expect(zoneOf(production.deref(ref))).toBe(zone);
  });

  it('cuts the AZ\'s subnets off and fails the cluster groups\' launches there, stopping no instance', () => {
    expect(template.action.map((a: Attributes) => a.action_id)).toEqual([AZ_FAILURE_ACTIONS.partition, AZ_FAILURE_ACTIONS.noCapacity]);
    const actions = Object.fromEntries(template.action.map((a: Attributes) => [a.action_id, a]));
    expect(actions[AZ_FAILURE_ACTIONS.partition]).toMatchObject({ target: { key: 'Subnets', value: 'zone-subnets' }, parameter: [{ key: 'duration', value: 'PT10M' }, { key: 'scope', value: 'all' }] });
    expect(actions[AZ_FAILURE_ACTIONS.noCapacity]).toMatchObject({
      target: { key: 'AutoScalingGroups', value: 'cluster-groups' },
      parameter: [{ key: 'availabilityZoneIdentifiers', value: 'ap-northeast-2a' }, { key: 'duration', value: 'PT10M' }, { key: 'percentage', value: '100' }],
    });
    const targets = Object.fromEntries(template.target.map((t: Attributes) => [t.name, t]));
    expect(targets['zone-subnets']).toMatchObject({ resource_type: 'aws:ec2:subnet', parameters: { availabilityZoneIdentifier: 'ap-northeast-2a' } });
    expect(targets['cluster-groups']).toMatchObject({ resource_type: 'aws:ec2:autoscaling-group', selection_mode: 'ALL', resource_tag: [{ key: 'kubernetes.io/cluster/production', value: 'owned' }] });
    expect(Object.keys(targets).sort()).toEqual(['cluster-groups', 'zone-subnets']);
  });

  describe('against Auto Scaling with EC2 health checks (the cluster\'s groups, as synthesized)', () => {
    const [zone, otherZone] = zones;
    // The template this construct made before: stop the AZ's instances, start them after 10 minutes.
    const stoppingTemplate = {
      target: [
        { name: 'zone-instances', resource_type: 'aws:ec2:instance', selection_mode: 'ALL', resource_tag: [{ key: 'kubernetes.io/cluster/production', value: 'owned' }], filter: [{ path: 'Placement.AvailabilityZone', values: [zone] }, { path: 'State.Name', values: ['running'] }] },
        template.target.find((t: Attributes) => t.name === 'zone-subnets'),
      ],
      action: [
        { name: 'stop-instances', action_id: 'aws:ec2:stop-instances', parameter: [{ key: 'startInstancesAfterDuration', value: 'PT10M' }], target: { key: 'Instances', value: 'zone-instances' } },
        template.action.find((a: Attributes) => a.action_id === AZ_FAILURE_ACTIONS.partition),
      ],
    };

    it('shows why the old template ended "failed": the groups replaced the stopped instances, and FIS could not start them again', () => {
      const cluster = new ClusterUnderExperiment(production);
      const before = cluster.running(zone).map((i) => i.id);
      expect(before.length).toBeGreaterThan(0);
      const result = cluster.run(stoppingTemplate);
      expect(result.status).toBe('failed');
      expect(result.reason).toBe(`stop-instances: StartInstances failed, instances ${before.join(', ')} are terminated (IncorrectInstanceState)`);
      expect(result.terminated).toEqual(before);
      expect(cluster.running(zone).some((i) => before.includes(i.id))).toBe(false);
    });

    it('completes, with the AZ unreachable and without capacity for its duration, and every node back as it was', () => {
      const cluster = new ClusterUnderExperiment(production);
      const inZone = cluster.running(zone);
      const elsewhere = cluster.running(otherZone);
      const ids = cluster.instances.map((i) => i.id);
      const lostZoneGroup = `production-general-${zone.slice(-1)}`;
      let during: { crossZone: boolean[]; withinZone: boolean; betweenOthers: boolean } | undefined;
      const result = cluster.run(template, () => {
        // cluster-autoscaler asks the lost AZ's group for a node: the launch must fail, not land in the cut-off subnet.
        cluster.scaleOut(lostZoneGroup);
        during = {
          crossZone: inZone.flatMap((a) => elsewhere.flatMap((b) => [cluster.reachable(a, b), cluster.reachable(b, a)])),
          withinZone: cluster.reachable(inZone[0], inZone[1]),
          betweenOthers: cluster.reachable(elsewhere[0], cluster.running(zones[2])[0]),
        };
      });
      expect(result).toMatchObject({ status: 'completed', terminated: [] });
      expect(during).toEqual({ crossZone: inZone.flatMap(() => elsewhere.flatMap(() => [false, false])), withinZone: true, betweenOthers: true });
      // Launches fail while the fault holds (one per step of the second half); the group gets its node once it ends.
      expect(result.failedLaunches.length).toBeGreaterThan(0);
      expect(new Set(result.failedLaunches)).toEqual(new Set([`${lostZoneGroup}: InsufficientInstanceCapacity`]));
      expect(cluster.running(zone).map((i) => i.id)).toEqual([...inZone.map((i) => i.id), expect.not.stringMatching(new RegExp(`^(${ids.join('|')})$`))]);
      expect(inZone.every((a) => elsewhere.every((b) => cluster.reachable(a, b)))).toBe(true);
    });

    it('refuses to judge a template with an action it does not model', () => {
      expect(() => new ClusterUnderExperiment(production).run({ target: template.target, action: [{ name: 'x', action_id: 'aws:ec2:terminate-instances', target: { key: 'Instances', value: 'zone-subnets' } }] })).toThrow('the model does not know FIS action aws:ec2:terminate-instances');
    });
  });

  it('stops itself when the API has fewer healthy nodes than etcd quorum', () => {
    expect(template.stop_condition).toEqual([{ source: 'aws:cloudwatch:alarm', value: expect.stringMatching(/^\$\{aws_cloudwatch_metric_alarm\..*\.arn\}$/) }]);
    const [alarm] = production.values('aws_cloudwatch_metric_alarm').filter((a) => a.namespace !== 'AWS/Route53');
    expect(alarm).toMatchObject({ namespace: 'AWS/NetworkELB', metric_name: 'HealthyHostCount', threshold: 2, comparison_operator: 'LessThanThreshold' });
  });

  it('runs with its own FIS role', () => {
    const role = production.deref(template.role_arn);
    expect(role.name).toBe('production-fis-az-failure');
    expect(Synth.policy(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: 'fis.amazonaws.com' });
    // Exactly what the two actions need: the network policy FIS documents, and the no-capacity
    // statements; nothing that stops, starts or terminates instances.
    expect(production.values('aws_iam_role_policy_attachment').map((a) => a.policy_arn)).toEqual([FIS_NETWORK_POLICY]);
    const inline = production.values('aws_iam_role_policy').filter((p) => p.role === `\${aws_iam_role.${production.resources('aws_iam_role').find(([, r]) => r.name === 'production-fis-az-failure')?.[0]}.name}`);
    expect(inline.map((p) => Synth.policy(p.policy).Statement)).toEqual([FIS_NO_CAPACITY_STATEMENTS]);
    expect(JSON.stringify(FIS_NO_CAPACITY_STATEMENTS)).not.toMatch(/StopInstances|StartInstances|TerminateInstances/);
  });

  describe('validation', () => {
    const props = { experimentName: 'x', roleName: 'x', availabilityZones: ['a', 'b'], vpcId: 'v', clusterTagKey: 'k', stopBelowHealthyApiTargets: 2, apiLoadBalancerArnSuffix: 'l', apiTargetGroupArnSuffix: 't' };
    const build = (change: object) => () => new AzFailureExperiment(bareStack(), 'fis', { ...props, ...change });
    it('rejects an AZ the cluster does not use', () => {
      expect(build({ targetZones: ['b', 'c'] })).toThrow('AzFailureExperiment: props.targetZones[1] = "c"; expected one of the cluster\'s AZs: a, b');
    });
    it('rejects no target zone', () => {
      expect(build({ targetZones: [] })).toThrow('AzFailureExperiment: props.targetZones = []; expected at least one of the cluster\'s AZs: a, b');
    });
    it('makes templates for the target zones only', () => {
      const stack = bareStack();
      const fis = new AzFailureExperiment(stack, 'fis', { ...props, targetZones: ['b'] });
      expect(Object.keys(fis.templateIds)).toEqual(['b']);
    });
    it('rejects a duration outside 1..720 minutes', () => {
      expect(build({ durationMinutes: 0 })).toThrow('AzFailureExperiment: props.durationMinutes = 0; expected 1 to 720 minutes');
    });
  });
});

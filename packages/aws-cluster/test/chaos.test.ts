import { describe, expect, it } from 'vitest';
import { AzFailureExperiment, azFailureTemplateId, FIS_MANAGED_POLICIES } from '../src';
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
      expect(t.target.find((x: Attributes) => x.name === 'zone-instances').filter[0]).toEqual({ path: 'Placement.AvailabilityZone', values: [zone] });
      expect(t.description).toBe(`production-az-failure: take ${zone} away for 10 minutes`);
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

  it('outputs the template id of every AZ', () => {
    const ids = production.json.output.fis_experiment_template_ids.value as Record<string, string>;
    expect(Object.keys(ids)).toEqual([...zones]);
    for (const [zone, ref] of Object.entries(ids)) expect(zoneOf(production.deref(ref))).toBe(zone);
  });

  it('stops the cluster\'s instances in one AZ and cuts that AZ\'s subnets off', () => {
    const actions = Object.fromEntries(template.action.map((a: Attributes) => [a.action_id, a]));
    expect(actions['aws:ec2:stop-instances']).toMatchObject({ target: { key: 'Instances', value: 'zone-instances' }, parameter: [{ key: 'startInstancesAfterDuration', value: 'PT10M' }] });
    expect(actions['aws:network:disrupt-connectivity']).toMatchObject({ target: { key: 'Subnets', value: 'zone-subnets' }, parameter: [{ key: 'duration', value: 'PT10M' }, { key: 'scope', value: 'all' }] });
    const targets = Object.fromEntries(template.target.map((t: Attributes) => [t.name, t]));
    expect(targets['zone-instances']).toMatchObject({
      resource_type: 'aws:ec2:instance',
      selection_mode: 'ALL',
      resource_tag: [{ key: 'kubernetes.io/cluster/production', value: 'owned' }],
      filter: [{ path: 'Placement.AvailabilityZone', values: ['ap-northeast-2a'] }, { path: 'State.Name', values: ['running'] }],
    });
    expect(targets['zone-subnets']).toMatchObject({ resource_type: 'aws:ec2:subnet', parameters: { availabilityZoneIdentifier: 'ap-northeast-2a' } });
  });

  it('stops itself when the API has fewer healthy nodes than etcd quorum', () => {
    expect(template.stop_condition).toEqual([{ source: 'aws:cloudwatch:alarm', value: expect.stringMatching(/^\$\{aws_cloudwatch_metric_alarm\..*\.arn\}$/) }]);
    const [alarm] = production.values('aws_cloudwatch_metric_alarm');
    expect(alarm).toMatchObject({ namespace: 'AWS/NetworkELB', metric_name: 'HealthyHostCount', threshold: 2, comparison_operator: 'LessThanThreshold' });
  });

  it('runs with its own FIS role', () => {
    const role = production.deref(template.role_arn);
    expect(role.name).toBe('production-fis-az-failure');
    expect(Synth.policy(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: 'fis.amazonaws.com' });
    expect(production.values('aws_iam_role_policy_attachment').map((a) => a.policy_arn).sort()).toEqual([...FIS_MANAGED_POLICIES].sort());
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

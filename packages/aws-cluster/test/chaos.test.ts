import { describe, expect, it } from 'vitest';
import { AzFailureExperiment, FIS_MANAGED_POLICIES } from '../src';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

describe('AzFailureExperiment', () => {
  const production = synthCluster(platform(), 'production');
  const [template] = production.values('aws_fis_experiment_template');

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
    const props = { experimentName: 'x', roleName: 'x', availabilityZone: 'a', availabilityZones: ['a', 'b'], vpcId: 'v', clusterTagKey: 'k', stopBelowHealthyApiTargets: 2, apiLoadBalancerArnSuffix: 'l', apiTargetGroupArnSuffix: 't' };
    const build = (change: object) => () => new AzFailureExperiment(bareStack(), 'fis', { ...props, ...change });
    it('rejects an AZ the cluster does not use', () => {
      expect(build({ availabilityZone: 'c' })).toThrow('AzFailureExperiment: props.availabilityZone = "c"; expected one of the cluster\'s AZs: a, b');
    });
    it('rejects a duration outside 1..720 minutes', () => {
      expect(build({ durationMinutes: 0 })).toThrow('AzFailureExperiment: props.durationMinutes = 0; expected 1 to 720 minutes');
    });
  });
});

import { bootstrapNames } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { NodeRole } from '../src';
import { evaluateResourcePolicy } from './resource-policy-model';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

describe('node roles and policies', () => {
  const production = synthCluster(platform(), 'production');
  const roleId = (name: string) => production.resources('aws_iam_role').find(([, r]) => r.name === name)?.[0];
  const policiesOf = (roleName: string): Record<string, Attributes> =>
    Object.fromEntries(production.values('aws_iam_role_policy').filter((p) => p.role === `\${aws_iam_role.${roleId(roleName)}.name}`).map((p) => [p.name, Synth.policy(p.policy)]));
  const statements = (policies: Record<string, Attributes>) => Object.values(policies).flatMap((d) => d.Statement as Attributes[]);
  const actions = (s: Attributes) => [s.Action].flat() as string[];

  const cp = policiesOf('production-control-plane');
  const worker = policiesOf('production-worker');

  it('trusts EC2 only', () => {
    for (const name of ['production-control-plane', 'production-worker']) {
      const [, role] = production.resources('aws_iam_role').find(([, r]) => r.name === name) as [string, Attributes];
      expect(Synth.policy(role.assume_role_policy).Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    }
  });

  it('gives the control plane one policy per concern, none with a wildcard action', () => {
    // The add-ons' policies (EBS CSI, cluster-autoscaler, termination handler, the cloud controller) are on their workload roles.
    expect(Object.keys(cp).sort()).toEqual(['bootstrap-bundle', 'etcd-backups', 'etcd-slot', 'join-material', 'node-access', 'service-account-issuer']);
    expect(statements(cp).flatMap(actions).filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  it('lets the control plane put exactly the region-failover kubeconfig parameter', () => {
    const publish = cp['join-material'].Statement.find((s: Attributes) => s.Sid === 'PublishCiKubeconfig');
    expect(publish).toEqual({ Sid: 'PublishCiKubeconfig', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: expect.any(String) });
    expect(publish.Resource).toMatch(/^arn:aws:ssm:ap-northeast-2:\$\{[^}]+\}:parameter\/hakube\/production\/kubeconfig\/ci$/);
    expect(publish.Resource.endsWith(`:parameter${platform().namesOf('production').ssm.ciKubeconfig}`)).toBe(true);
  });

  it('lets the control plane put its IRSA stage records under their own path only, and workers none', () => {
    const record = cp['join-material'].Statement.find((s: Attributes) => s.Sid === 'RecordIdentityStage');
    expect(record).toEqual({ Sid: 'RecordIdentityStage', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: expect.any(String) });
    expect(record.Resource).toMatch(/^arn:aws:ssm:ap-northeast-2:\$\{[^}]+\}:parameter\/hakube\/production\/identity-stage\/\*$/);
    expect(record.Resource.endsWith(`:parameter${bootstrapNames(platform().namesOf('production')).identityStageRecords}/*`)).toBe(true);
    expect(JSON.stringify(worker)).not.toContain('identity-stage');
  });

  it('lets the bootstrap see the control-plane instances and their ASG lifecycle state in its own statement (etcd member cleanup)', () => {
    expect(cp['join-material'].Statement.find((s: Attributes) => s.Sid === 'ControlPlaneMembership')).toEqual({
      Sid: 'ControlPlaneMembership',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingInstances'],
      Resource: '*',
    });
  });

  describe('etcd slots: the control plane attaches only this cluster\'s etcd volumes and addresses, only to this cluster\'s instances', () => {
    const names = platform().namesOf('production');
    // An identity policy as IAM evaluates it for one resource of the request: every statement of
    // every control-plane policy, the resource's own tags as aws:ResourceTag/* context.
    const allowed = (action: string, resource: string, tags: Record<string, string>, extra: Record<string, string> = {}) =>
      evaluateResourcePolicy({ Statement: statements(cp).map((s) => ({ ...s, Principal: '*' })) }, {
        principal: { AWS: 'arn:aws:iam::111122223333:role/production-control-plane' },
        action,
        resource,
        context: { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])), ...extra },
      }) === 'allowed';
    const account = () => (cp['etcd-slot'].Statement.find((s: Attributes) => s.Sid === 'AttachEtcdSlot').Resource[0] as string).split(':')[4];
    const at = (type: string) => `arn:aws:ec2:ap-northeast-2:${account()}:${type}/${type}-0abc`;
    const etcdTags = { [names.etcdSlot.clusterTagKey]: 'production', [names.etcdSlot.slotTagKey]: 'production-control-plane-a' };
    const clusterInstance = { [names.clusterTagKey]: 'owned' };

    it('is its own policy document (others may narrow the rest)', () => {
      expect(cp['etcd-slot'].Statement.map((s: Attributes) => s.Sid)).toEqual(['FindEtcdSlot', 'AttachEtcdSlot', 'AttachEtcdSlotToClusterNodes', 'DecryptEtcdVolume']);
    });

    it.each(['ec2:AttachVolume', 'ec2:DetachVolume'])('%s: this cluster\'s etcd volume onto this cluster\'s instance, nothing else', (action) => {
      expect(allowed(action, at('volume'), etcdTags)).toBe(true);
      expect(allowed(action, at('instance'), clusterInstance)).toBe(true);
      expect(allowed(action, at('volume'), { ...etcdTags, [names.etcdSlot.clusterTagKey]: 'staging' })).toBe(false);
      expect(allowed(action, at('volume'), {})).toBe(false);
    });

    it.each(['ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'])('%s: this cluster\'s etcd address onto this cluster\'s instance only', (action) => {
      expect(allowed(action, at('network-interface'), etcdTags)).toBe(true);
      expect(allowed(action, at('network-interface'), { [names.etcdSlot.clusterTagKey]: 'staging' })).toBe(false);
      expect(allowed(action, at('instance'), clusterInstance)).toBe(true);
      expect(allowed(action, at('instance'), { 'kubernetes.io/cluster/staging': 'owned' })).toBe(false);
    });

    it('the control-plane role can neither delete, modify nor snapshot an etcd volume', () => {
      for (const action of ['ec2:DeleteVolume', 'ec2:ModifyVolume', 'ec2:CreateSnapshot']) expect(allowed(action, at('volume'), etcdTags), action).toBe(false);
    });

    it('lets EC2 use the cluster key for the attached volume through a grant, and nothing else', () => {
      const grant = cp['etcd-slot'].Statement.find((s: Attributes) => s.Sid === 'DecryptEtcdVolume');
      expect(grant).toMatchObject({ Action: 'kms:CreateGrant', Condition: { StringEquals: { 'kms:ViaService': 'ec2.ap-northeast-2.amazonaws.com' }, Bool: { 'kms:GrantIsForAWSResource': 'true' } } });
    });
  });

  it('gives the cloud controller (its workload role) exactly the reads of the controllers it runs: nodes, and the service controller read-only', () => {
    const ccm = policiesOf('production-irsa-cloud-controller');
    expect(Object.keys(ccm)).toEqual(['cloud-controller']);
    const granted = statements(ccm).flatMap(actions);
    expect(granted.sort()).toEqual([
      'ec2:DescribeAvailabilityZones',
      'ec2:DescribeInstanceTopology',
      'ec2:DescribeInstances',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancerAttributes',
      'elasticloadbalancing:DescribeLoadBalancerPolicies',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
    ]);
    // No route (route controller off), no load balancer or security group writes (Terraform's), no IAM.
    expect(granted.filter((a) => !/:Describe/.test(a))).toEqual([]);
    // The control-plane role no longer carries any of it at `complete` (membership's DescribeInstances is the bootstrap's own).
    expect(statements(cp).flatMap(actions).filter((a) => a.startsWith('elasticloadbalancing:') || a === 'ec2:DescribeInstanceTopology')).toEqual([]);
  });

  it('keeps on the node roles no right of an add-on that has its own workload role (any host-network pod could use it)', () => {
    const all = [...statements(cp), ...statements(worker)].flatMap(actions);
    // The etcd-slot statements attach and detach only volumes with the etcd slot tag, which the
    // EBS CSI driver never sets (tested above): no workload volume is reachable through them.
    const outsideEtcdSlot = [...statements(worker), ...Object.entries(cp).filter(([name]) => name !== 'etcd-slot').flatMap(([, doc]) => (doc as Attributes).Statement)].flatMap(actions);
    for (const action of ['ec2:AttachVolume', 'ec2:DetachVolume']) expect(outsideEtcdSlot, action).not.toContain(action);
    for (const action of ['ec2:CreateVolume', 'ec2:DeleteVolume', 'ec2:CreateSnapshot', 'autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']) {
      expect(all, action).not.toContain(action);
    }
    expect(JSON.stringify([cp, worker])).not.toContain(platform().namesOf('production').appBackupBucket);
  });

  it('lets the initialiser complete only this cluster’s lifecycle hooks (its own launching hook, before any handler runs)', () => {
    expect(cp['join-material'].Statement.find((s: Attributes) => s.Sid === 'CompleteLaunchingHook')).toEqual({
      Sid: 'CompleteLaunchingHook',
      Effect: 'Allow',
      Action: 'autoscaling:CompleteLifecycleAction',
      Resource: '*',
      Condition: { StringEquals: { 'autoscaling:ResourceTag/kubernetes.io/cluster/production': 'owned' } },
    });
    expect(statements(worker).flatMap(actions)).not.toContain('autoscaling:CompleteLifecycleAction');
  });

  it('conditions cluster-autoscaler writes (its workload role) on the cluster tags', () => {
    const write = statements(policiesOf('production-irsa-cluster-autoscaler')).find((s) => actions(s).includes('autoscaling:SetDesiredCapacity')) as Attributes;
    expect(actions(write).sort()).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    expect(write.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/kubernetes.io/cluster/production': 'owned', 'aws:ResourceTag/k8s.io/cluster-autoscaler/production': 'owned' } });
  });

  it('limits the EBS CSI controller’s (workload role) destructive actions to this cluster’s volumes and snapshots (every driver sets ebs.csi.aws.com/cluster)', () => {
    const own = { 'aws:ResourceTag/kubernetes.io/cluster/production': 'owned' };
    expect(platform().namesOf('production').clusterTagKey).toBe('kubernetes.io/cluster/production');
    const ebs = policiesOf('production-irsa-ebs-csi-controller')['ebs-csi-controller'].Statement as Attributes[];
    for (const action of ['ec2:DeleteVolume', 'ec2:DeleteSnapshot', 'ec2:ModifyVolume', 'ec2:DetachVolume', 'ec2:AttachVolume']) {
      const grants = ebs.filter((s) => actions(s).includes(action));
      expect(grants.length, action).toBeGreaterThan(0);
      // Every grant of the action needs this cluster's tag, on the volume/snapshot or (attach/detach) the instance.
      for (const grant of grants) expect(grant.Condition, action).toEqual({ StringEquals: own });
    }
    // Creating asks for both tags on the request; snapshotting a volume needs the volume to be this cluster's.
    const created = { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true', 'aws:RequestTag/kubernetes.io/cluster/production': 'owned' };
    const createVolume = ebs.filter((s) => actions(s).includes('ec2:CreateVolume'));
    expect(createVolume.map((s) => [s.Resource, s.Condition])).toEqual([
      ['arn:aws:ec2:*:*:volume/*', { StringEquals: created }],
      ['arn:aws:ec2:*:*:snapshot/*', undefined],
    ]);
    const createSnapshot = ebs.filter((s) => actions(s).includes('ec2:CreateSnapshot'));
    expect(createSnapshot.map((s) => [s.Resource, s.Condition])).toEqual([
      ['arn:aws:ec2:*:*:snapshot/*', { StringEquals: created }],
      [['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:snapshot/*'], { StringEquals: own }],
    ]);
    expect(JSON.stringify(ebs)).not.toContain('aws:ResourceTag/ebs.csi.aws.com/cluster');
  });

  it('scopes join material to the cluster SSM path and backups to the snapshot prefix of the cluster bucket', () => {
    const ssm = statements(cp).find((s) => s.Sid === 'BootstrapParameters') as Attributes;
    expect(ssm.Resource).toBe('arn:aws:ssm:ap-northeast-2:${local.account_id}:parameter/hakube/production/*');
    // The join material by its exact ARNs: the initialiser creates the parameters (absent = not published).
    const join = statements(cp).find((s) => s.Sid === 'PublishJoinMaterial') as Attributes;
    const { ssm: names } = platform().namesOf('production');
    expect(join).toMatchObject({ Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: [names.certificateKey, names.caCertHash, names.joinToken].map((n) => `arn:aws:ssm:ap-northeast-2:\${local.account_id}:parameter${n}`) });
    expect(production.json.locals.account_id).toMatch(/^\$\{element\(split\(":", aws_kms_key\..*\.arn\), 4\)\}$/);
    const snapshots = statements(cp).find((s) => actions(s).includes('s3:PutObject')) as Attributes;
    expect(snapshots.Resource).toMatch(/^\$\{aws_s3_bucket\.etcd-backups_bucket_.*\.arn\}\/etcd-snapshots\/production\/\*$/);
    // etcd-snapshot.sh and etcd-restore.sh list with --prefix "$SNAPSHOT_PREFIX/etcd-<cluster>-".
    const list = statements(cp).find((s) => actions(s).includes('s3:ListBucket')) as Attributes;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': `${bootstrapNames(platform().namesOf('production')).etcdSnapshotPrefix}/*` } });
  });

  it('lets the control plane write and prune etcd snapshots but never read one back (pki/sa.key inside), remove a version or a bucket protection', () => {
    const [[bucketId]] = production.resources('aws_s3_bucket').filter(([, b]) => b.bucket === platform().namesOf('production').etcdBackupBucket);
    const prefix = bootstrapNames(platform().namesOf('production')).etcdSnapshotPrefix;
    const objects = statements(cp).filter((s) => s.Resource === `\${aws_s3_bucket.${bucketId}.arn}/${prefix}/*`);
    // etcd-snapshot.sh (node-bootstrap) uploads with one PutObject, and deletes snapshots older than the retention.
    expect(objects.flatMap(actions).sort()).toEqual(['s3:DeleteObject', 's3:PutObject']);
    expect(statements(cp).flatMap(actions).filter((a) => /^s3:GetObject/.test(a))).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(statements(cp).filter((s) => actions(s).some((a) => a.startsWith('s3:GetObject'))).map((s) => s.Sid)).toEqual(['FetchBootstrapBundle']);
    // S3 encrypts a snapshot with a data key; decrypting one is the restore role's alone.
    expect(statements(cp).find((s) => s.Sid === 'EncryptSnapshots')!.Action).toBe('kms:GenerateDataKey');
    const all = statements(cp).flatMap(actions);
    expect(all.filter((a) => /^s3:(DeleteObjectVersion|DeleteBucket|PutBucket|PutLifecycle|PutReplication|PutEncryption)/.test(a))).toEqual([]);
    expect(statements(worker).filter((s) => s.Sid !== 'FetchBootstrapBundle').flatMap(actions).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('gives no node role a database backup right or an operator-written AWS credential to read', () => {
    const secureStrings = (statements(cp).find((s) => s.Sid === 'SecureStringsViaSsm') as Attributes).Condition.StringEquals['kms:EncryptionContext:PARAMETER_ARN'] as string[];
    expect(secureStrings.filter((arn) => arn.includes('/data/'))).toEqual([]);
    expect(JSON.stringify(worker)).not.toContain('/data/');
  });

  it('lets workers read the join token and CA hash, never the certificate key', () => {
    expect(Object.keys(worker).sort()).toEqual(['bootstrap-bundle', 'join-material', 'node-access']);
    const read = statements(worker).find((s) => actions(s).includes('ssm:GetParameter')) as Attributes;
    expect(read.Resource).toHaveLength(2);
    expect(JSON.stringify(worker)).not.toContain(platform().namesOf('production').ssm.certificateKey);
    const decrypt = statements(worker).find((s) => actions(s).includes('kms:Decrypt')) as Attributes;
    expect(decrypt.Condition.StringEquals).toEqual({ 'kms:ViaService': 'ssm.ap-northeast-2.amazonaws.com', 'kms:EncryptionContext:PARAMETER_ARN': read.Resource });
    expect(statements(worker).flatMap(actions)).not.toContain('ssm:PutParameter');
  });

  it('uses the cluster key only through SSM for the SecureStrings it owns, through S3 for snapshots and through EC2 for the etcd volumes (no direct decrypt)', () => {
    const kms = statements(cp).filter((s) => actions(s).some((a) => a.startsWith('kms:') && a !== 'kms:DescribeKey'));
    expect(Object.fromEntries(kms.map((s) => [s.Sid, s.Condition.StringEquals['kms:ViaService']]))).toEqual({
      SecureStringsViaSsm: 'ssm.ap-northeast-2.amazonaws.com',
      EncryptSnapshots: 's3.ap-northeast-2.amazonaws.com',
      // A grant for the EC2 service only, when a node attaches its etcd volume.
      DecryptEtcdVolume: 'ec2.ap-northeast-2.amazonaws.com',
    });
    const n = platform().namesOf('production');
    const arn = (name: string) => `arn:aws:ssm:ap-northeast-2:\${local.account_id}:parameter${name}`;
    expect(kms.find((s) => s.Sid === 'SecureStringsViaSsm')!.Condition.StringEquals['kms:EncryptionContext:PARAMETER_ARN']).toEqual(
      [n.ssm.certificateKey, n.ssm.caCertHash, n.ssm.joinToken, n.ssm.ciKubeconfig, n.ssm.gitCredentials, bootstrapNames(n).serviceAccountNextKey].map(arn),
    );
  });

  it('gives both roles ECR pull and Session Manager, not the broad managed policy', () => {
    for (const policies of [cp, worker]) {
      const access = policies['node-access'].Statement.flatMap(actions);
      expect(access).toEqual(expect.arrayContaining(['ecr:BatchGetImage', 'ssmmessages:OpenDataChannel']));
    }
    expect(production.values('aws_iam_role_policy_attachment').map((a) => a.policy_arn)).not.toContain('arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore');
  });

  it('rejects a role without policies', () => {
    expect(() => new NodeRole(bareStack(), 'r', { roleName: 'r', instanceProfileName: 'r', policies: {} })).toThrow('NodeRole: props.policies = {}; expected at least one policy');
  });
});

import { describe, expect, it } from 'vitest';
import { defaultPlatform, IMDS_FENCE, ServiceAccountIdentity } from '@platform/platform-config';
import { systemdUnits } from './units';

describe('systemdUnits', () => {
  const platform = defaultPlatform();
  const FETCH = ['ap-northeast-2', 'bucket', 'bootstrap/worker.lzma', 'v1', 'abc'];

  it('runs the snapshot timer at the interval of the definition and the refresh timer every 15 minutes', () => {
    const units = systemdUnits('control-plane', platform.cluster('staging'), FETCH);
    expect(units['etcd-snapshot.timer']).toContain('OnUnitActiveSec=1800s');
    expect(units['join-material-refresh.timer']).toContain('OnUnitActiveSec=900s');
    expect(units['join-material-refresh.service']).toContain('ExecStart=/bin/bash /opt/node-bootstrap/join-material.sh refresh');
  });

  it('gives workers the bootstrap service, restarted on failure, and the IMDS fence re-arm', () => {
    const units = systemdUnits('worker', platform.cluster('production'), FETCH);
    expect(Object.keys(units)).toEqual(['node-bootstrap.service', 'kubelet.service.d/20-imds-fence.conf', 'imds-fence.service', 'imds-fence.timer']);
    expect(units['node-bootstrap.service']).toContain('Restart=on-failure');
    expect(units['node-bootstrap.service']).toContain('SyslogIdentifier=node-bootstrap');
  });

  it('fetches and unpacks the bundle in the start itself, before the bootstrap, and never stops restarting', () => {
    const service = systemdUnits('worker', platform.cluster('production'), FETCH)['node-bootstrap.service'];
    expect(service.split('\n').filter((l) => /^Exec/.test(l))).toEqual([
      'ExecStartPre=/usr/bin/python3 /opt/node-bootstrap/fetch-bundle.py ap-northeast-2 bucket bootstrap/worker.lzma v1 abc /opt/node-bootstrap/bundle.sh',
      'ExecStartPre=/bin/bash /opt/node-bootstrap/bundle.sh',
      'ExecStart=/bin/bash /opt/node-bootstrap/bootstrap.sh',
    ]);
    // systemd's default start limit (5 starts in 10 s) does not apply: no StartLimitBurst= makes it give up.
    expect(service).toContain('StartLimitIntervalSec=0');
    expect(service).not.toContain('StartLimitBurst');
  });

  it('re-arms the IMDS fence before every kubelet start (a failure keeps the kubelet down) and on a short timer, from the web-identity stage on', () => {
    for (const role of ['control-plane', 'worker'] as const) {
      const units = systemdUnits(role, platform.cluster('production'), FETCH);
      expect(units['kubelet.service.d/20-imds-fence.conf']).toBe('[Service]\nExecStartPre=/bin/bash /opt/node-bootstrap/node-prep.sh imds-fence\n');
      expect(units['imds-fence.service']).toContain('ExecStart=/bin/bash /opt/node-bootstrap/node-prep.sh imds-fence');
      expect(units['imds-fence.timer']).toContain(`OnUnitActiveSec=${IMDS_FENCE.recheckSeconds}s`);
    }
    const before = { ...platform.cluster('production'), serviceAccountIdentity: ServiceAccountIdentity.signWithIssuer() };
    expect(Object.keys(systemdUnits('worker', before, FETCH))).toEqual(['node-bootstrap.service']);
  });
});

import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { systemdUnits } from './units';

describe('systemdUnits', () => {
  const platform = defaultPlatform();

  it('runs the snapshot timer at the interval of the definition and the refresh timer every 15 minutes', () => {
    const units = systemdUnits('control-plane', platform.cluster('staging'));
    expect(units['etcd-snapshot.timer']).toContain('OnUnitActiveSec=1800s');
    expect(units['join-material-refresh.timer']).toContain('OnUnitActiveSec=900s');
    expect(units['join-material-refresh.service']).toContain('ExecStart=/bin/bash /opt/node-bootstrap/join-material.sh refresh');
  });

  it('gives workers only the bootstrap service, restarted on failure', () => {
    const units = systemdUnits('worker', platform.cluster('production'));
    expect(Object.keys(units)).toEqual(['node-bootstrap.service']);
    expect(units['node-bootstrap.service']).toContain('Restart=on-failure');
    expect(units['node-bootstrap.service']).toContain('SyslogIdentifier=node-bootstrap');
  });
});

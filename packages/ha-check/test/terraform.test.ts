import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTerraform } from '../src';
import { tempDir } from './helpers';

const AWS = 'registry.terraform.io/hashicorp/aws';
const planned = (type: string, name: string, values: Record<string, unknown>, index?: number) => ({ address: `${type}.${name}${index === undefined ? '' : `[${index}]`}`, mode: 'managed', type, name, ...(index === undefined ? {} : { index }), provider_name: AWS, values });
const configured = (type: string, name: string, expressions: Record<string, unknown>) => ({ address: `${type}.${name}`, mode: 'managed', type, name, provider_config_key: 'aws', expressions });

/** The shape `terraform show -json` (1.11) writes for HCL with `count`: unknown ids left out of the planned values. */
const hclPlanWithCount = {
  format_version: '1.2',
  terraform_version: '1.11.4',
  planned_values: {
    root_module: {
      resources: [
        planned('aws_subnet', 'private', { availability_zone: 'ap-northeast-2a' }, 0),
        planned('aws_subnet', 'private', { availability_zone: 'ap-northeast-2b' }, 1),
        planned('aws_route_table_association', 'b', { gateway_id: null }),
      ],
    },
  },
  configuration: {
    provider_config: { aws: { name: 'aws', full_name: AWS, expressions: { region: { constant_value: 'ap-northeast-2' } } } },
    root_module: {
      resources: [
        configured('aws_subnet', 'private', { availability_zone: { references: ['count.index'] } }),
        configured('aws_route_table_association', 'b', { subnet_id: { references: ['aws_subnet.private[1].id', 'aws_subnet.private[1]', 'aws_subnet.private'] } }),
      ],
    },
  },
};

describe('plan JSON references', () => {
  it('resolves a reference to one instance of a counted resource (Terraform lists every prefix)', () => {
    const file = join(tempDir(), 'hcl.plan.json');
    writeFileSync(file, JSON.stringify(hclPlanWithCount));
    const index = loadTerraform([file]);
    const association = index.byType('aws_route_table_association')[0];
    expect(association.values.subnet_id).toBe('${aws_subnet.private[1].id}');
    expect(index.resolve(association, association.values.subnet_id)?.values).toMatchObject({ availability_zone: 'ap-northeast-2b' });
    expect(index.regionOf(association)).toBe('ap-northeast-2');
  });
});

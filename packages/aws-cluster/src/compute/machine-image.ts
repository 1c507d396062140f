import type { InstanceTypeInfo } from '@platform/platform-config';

export type Architecture = InstanceTypeInfo['architecture'];

/**
 * The node image. Resolved by EC2 at launch from a public SSM parameter (`resolve:ssm:`),
 * so neither synth nor plan calls AWS; an ASG replacement picks up the current image.
 */
export abstract class MachineImage {
  /** Canonical's Ubuntu 24.04 LTS, gp3 root, for the instance type's architecture. */
  static ubuntu2404(): MachineImage {
    return MachineImage.fromSsmParameters({
      x86_64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
      arm64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
    });
  }

  /** Any image published as SSM parameters, one per architecture. @param rootDeviceName @default '/dev/sda1' */
  static fromSsmParameters(parameters: Readonly<Record<Architecture, string>>, rootDeviceName = '/dev/sda1'): MachineImage {
    return new SsmMachineImage(parameters, rootDeviceName);
  }

  abstract readonly rootDeviceName: string;
  abstract imageId(architecture: Architecture): string;
}

class SsmMachineImage extends MachineImage {
  constructor(
    private readonly parameters: Readonly<Record<Architecture, string>>,
    readonly rootDeviceName: string,
  ) {
    super();
  }

  imageId(architecture: Architecture): string {
    return `resolve:ssm:${this.parameters[architecture]}`;
  }
}

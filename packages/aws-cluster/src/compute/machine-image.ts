import { AMI_ID_PATTERN, type Architecture } from '@platform/platform-config';
import { invalidProp } from '../private/validation';

export type { Architecture } from '@platform/platform-config';

/**
 * The node image: a concrete `ami-…` per architecture, as the platform's AMI lock pins it for
 * the cluster's region. Never `resolve:ssm:…/current`: EC2 would resolve that at every launch, so
 * a replacement launched during an incident could boot another image than its peers, and a new
 * image would reach the nodes with no plan, review or ha-check.
 */
export abstract class MachineImage {
  /**
   * Images by architecture (an architecture no instance type of the cluster uses may be left out).
   * @param rootDeviceName @default '/dev/sda1' (Ubuntu's)
   */
  static fromAmiIds(images: Readonly<Partial<Record<Architecture, string>>>, rootDeviceName = '/dev/sda1'): MachineImage {
    for (const [arch, id] of Object.entries(images)) {
      if (id !== undefined && !AMI_ID_PATTERN.test(id)) throw invalidProp('MachineImage', `images.${arch}`, id, 'an EC2 image id: ami- and 8 or 17 lowercase hexadecimal digits (from the AMI lock)');
    }
    return new LockedMachineImage(images, rootDeviceName);
  }

  abstract readonly rootDeviceName: string;
  /** The `ami-…` for nodes of this architecture; throws when none was given. */
  abstract imageId(architecture: Architecture): string;
}

class LockedMachineImage extends MachineImage {
  constructor(
    private readonly images: Readonly<Partial<Record<Architecture, string>>>,
    readonly rootDeviceName: string,
  ) {
    super();
  }

  imageId(architecture: Architecture): string {
    const id = this.images[architecture];
    if (id === undefined) throw invalidProp('MachineImage', `images.${architecture}`, id, `an ${architecture} image id: an instance type of this architecture needs one (platform-config amiLock)`);
    return id;
  }
}

import { LocalBackend, S3Backend, type TerraformStack } from 'cdktf';

export interface S3StateProps {
  readonly bucket: string;
  /** One key per stack (platform-config `names.stateKey(stack)`). */
  readonly key: string;
  readonly region: string;
}

/**
 * Where a stack keeps its state. Production stacks use S3 with native locking; tests and
 * offline plans use `local()` (or `terraform init -backend=false`, which ignores S3).
 */
export abstract class StateBackend {
  /** S3 with `use_lockfile` (Terraform ≥ 1.10): no DynamoDB table, a `<key>.tflock` object instead. */
  static s3(props: S3StateProps): StateBackend {
    return new S3StateBackend(props);
  }

  /**
   * Local state in the working directory. Written explicitly: cdktf's implicit default
   * embeds the absolute path of the synthesizing machine, which breaks byte-identical output.
   */
  static local(): StateBackend {
    return new LocalStateBackend();
  }

  abstract bind(stack: TerraformStack): void;
}

class S3StateBackend extends StateBackend {
  constructor(private readonly props: S3StateProps) {
    super();
  }

  bind(stack: TerraformStack): void {
    const backend = new S3Backend(stack, { bucket: this.props.bucket, key: this.props.key, region: this.props.region, encrypt: true });
    // cdktf 0.21 predates the option; the override writes it verbatim.
    backend.addOverride('use_lockfile', true);
  }
}

class LocalStateBackend extends StateBackend {
  bind(stack: TerraformStack): void {
    new LocalBackend(stack, { path: 'terraform.tfstate' });
  }
}

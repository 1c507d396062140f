import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyContext, PlanKeyService } from '../apply/plan-artifact';
import { execOk } from '../private/exec';

/**
 * KMS through the AWS CLI with the job's credentials: GenerateDataKey (AES_256) in the plan
 * job, Decrypt in the apply job. The encryption context goes with both calls; KMS refuses a
 * Decrypt whose context differs, and the key policy's conditions read it.
 */
export function awsKmsKeyService(keyId: string, region: string): PlanKeyService {
  const aws = (...args: string[]) => JSON.parse(execOk('aws', ['kms', ...args, '--region', region, '--output', 'json'])) as Record<string, string>;
  return {
    keyId,
    async generateDataKey(context: KeyContext) {
      const out = aws('generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256', '--encryption-context', JSON.stringify(context));
      return { plaintext: Buffer.from(out.Plaintext, 'base64'), sealed: Buffer.from(out.CiphertextBlob, 'base64') };
    },
    async decryptDataKey(sealed: Buffer, context: KeyContext) {
      const dir = mkdtempSync(join(tmpdir(), 'pipeline-kms-'));
      try {
        const blob = join(dir, 'key.bin');
        writeFileSync(blob, sealed, { mode: 0o600 });
        const out = aws('decrypt', '--key-id', keyId, '--ciphertext-blob', `fileb://${blob}`, '--encryption-context', JSON.stringify(context));
        return Buffer.from(out.Plaintext, 'base64');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

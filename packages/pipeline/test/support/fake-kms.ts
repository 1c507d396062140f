import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyContext, PlanKeyService } from '../../src/apply/plan-artifact';

/**
 * A KMS symmetric key as the service behaves: GenerateDataKey returns a fresh data key and
 * that key sealed under the KMS key with the encryption context as additional data; Decrypt
 * fails (InvalidCiphertextException) when the context differs; the key policy decides per
 * caller which of the two it may call (AccessDeniedException otherwise).
 */
export function fakeKms(policy: Readonly<Record<string, readonly ('GenerateDataKey' | 'Decrypt')[]>>, keyId = 'alias/hakube-terraform-plans') {
  const master = randomBytes(32);
  const aad = (context: KeyContext) => Buffer.from(JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]])));
  const allow = (caller: string, action: 'GenerateDataKey' | 'Decrypt') => {
    if (!policy[caller]?.includes(action)) throw new Error(`AccessDeniedException: User: ${caller} is not authorized to perform: kms:${action} on resource: ${keyId}`);
  };
  return {
    as(caller: string): PlanKeyService {
      return {
        keyId,
        async generateDataKey(context) {
          allow(caller, 'GenerateDataKey');
          const plaintext = randomBytes(32);
          const iv = randomBytes(12);
          const cipher = createCipheriv('aes-256-gcm', master, iv);
          cipher.setAAD(aad(context));
          const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
          return { plaintext: Buffer.from(plaintext), sealed: Buffer.concat([iv, cipher.getAuthTag(), body]) };
        },
        async decryptDataKey(sealed, context) {
          allow(caller, 'Decrypt');
          const decipher = createDecipheriv('aes-256-gcm', master, sealed.subarray(0, 12));
          decipher.setAAD(aad(context));
          decipher.setAuthTag(sealed.subarray(12, 28));
          try {
            return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
          } catch {
            throw new Error('InvalidCiphertextException');
          }
        },
      };
    },
  };
}

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The saved plan between the merge's plan job and its apply job, sealed. A plan file holds
 * the prior state (secrets included), and a workflow artifact is readable by anyone with
 * read access to the repository, so it travels encrypted: envelope encryption with a data
 * key from a key service (KMS in CI) whose policy lets the plan job only *generate* data
 * keys and the apply job only *decrypt* them. The header (stack, commit, creation and
 * expiry time) is the AES-GCM additional data: changing the expiry or moving a plan to
 * another stack or commit fails decryption, not only a check.
 */

/** What the data key is bound to; KMS keeps it as the encryption context (the key policy's conditions read it). */
export type KeyContext = Readonly<Record<string, string>>;

export interface DataKey {
  /** 32 bytes for AES-256-GCM; used once, never written anywhere. */
  readonly plaintext: Buffer;
  /** The data key as the key service sealed it; only the service can open it. */
  readonly sealed: Buffer;
}

/** KMS GenerateDataKey / Decrypt, or a local stand-in in tests. */
export interface PlanKeyService {
  readonly keyId: string;
  generateDataKey(context: KeyContext): Promise<DataKey>;
  /** Rejects when the caller may not decrypt or the context differs from the one the key was generated with. */
  decryptDataKey(sealed: Buffer, context: KeyContext): Promise<Buffer>;
}

export interface PlanArtifactHeader {
  readonly format: 'ha-kube-plan/1';
  readonly stack: string;
  readonly commit: string;
  /** ISO 8601 */
  readonly createdAt: string;
  /** ISO 8601: apply refuses the plan after it (the artifact's retention also ends then). */
  readonly expiresAt: string;
  readonly keyId: string;
  readonly context: KeyContext;
  /** base64 */
  readonly sealedKey: string;
  /** base64, 12 bytes */
  readonly iv: string;
  /** sha256 of the plan file, hex: what apply checks it got back. */
  readonly sha256: string;
}

const MAGIC = Buffer.from('HAKPLAN1\n');

export async function sealPlan(input: {
  readonly plan: Buffer;
  readonly stack: string;
  readonly commit: string;
  readonly keys: PlanKeyService;
  readonly context: KeyContext;
  readonly now: Date;
  readonly maxAgeMs: number;
}): Promise<Buffer> {
  const context = { ...input.context, stack: input.stack, commit: input.commit };
  const key = await input.keys.generateDataKey(context);
  const iv = randomBytes(12);
  const header: PlanArtifactHeader = {
    format: 'ha-kube-plan/1',
    stack: input.stack,
    commit: input.commit,
    createdAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + input.maxAgeMs).toISOString(),
    keyId: input.keys.keyId,
    context,
    sealedKey: key.sealed.toString('base64'),
    iv: iv.toString('base64'),
    sha256: createHash('sha256').update(input.plan).digest('hex'),
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const cipher = createCipheriv('aes-256-gcm', key.plaintext, iv);
  cipher.setAAD(headerBytes);
  const body = Buffer.concat([cipher.update(input.plan), cipher.final()]);
  key.plaintext.fill(0);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerBytes.length);
  return Buffer.concat([MAGIC, length, headerBytes, cipher.getAuthTag(), body]);
}

export function readPlanHeader(sealed: Buffer): { header: PlanArtifactHeader; headerBytes: Buffer; tag: Buffer; body: Buffer } {
  if (!sealed.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a sealed plan (no HAKPLAN1 header)');
  const length = sealed.readUInt32BE(MAGIC.length);
  const start = MAGIC.length + 4;
  const headerBytes = sealed.subarray(start, start + length);
  const header = JSON.parse(headerBytes.toString('utf8')) as PlanArtifactHeader;
  return { header, headerBytes, tag: sealed.subarray(start + length, start + length + 16), body: sealed.subarray(start + length + 16) };
}

/**
 * The plan file back, after checking it is the expected stack and commit and not expired
 * (checked before the key service is asked: an expired plan is never decrypted).
 */
export async function openPlan(sealed: Buffer, expect: { readonly stack: string; readonly commit: string; readonly keys: PlanKeyService; readonly now: Date }): Promise<{ plan: Buffer; header: PlanArtifactHeader }> {
  const { header, headerBytes, tag, body } = readPlanHeader(sealed);
  if (header.stack !== expect.stack || header.commit !== expect.commit) {
    throw new Error(`sealed plan is of ${header.stack} at ${header.commit.slice(0, 12)}; expected ${expect.stack} at ${expect.commit.slice(0, 12)}`);
  }
  if (expect.now.getTime() > Date.parse(header.expiresAt)) {
    throw new Error(`plan of ${header.stack} made at ${header.createdAt} expired at ${header.expiresAt}; re-run the workflow to plan again`);
  }
  const key = await expect.keys.decryptDataKey(Buffer.from(header.sealedKey, 'base64'), header.context);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(headerBytes);
  decipher.setAuthTag(tag);
  let plan: Buffer;
  try {
    plan = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new Error(`sealed plan of ${header.stack} failed authentication: it was altered after the plan job sealed it`);
  } finally {
    key.fill(0);
  }
  if (createHash('sha256').update(plan).digest('hex') !== header.sha256) throw new Error(`plan of ${header.stack}: sha256 differs from the sealed one`);
  return { plan, header };
}

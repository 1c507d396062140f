import type { StepContext } from '../step';

export interface S3Object {
  readonly Key: string;
  /** ISO 8601, as S3 reports it. */
  readonly LastModified: string;
}

export interface Listing {
  readonly contents: readonly S3Object[];
  /** With a delimiter: the "folders" one level down (S3's CommonPrefixes). */
  readonly prefixes: readonly string[];
}

/**
 * `s3api list-objects-v2` (ListObjectsV2: keys in UTF-8 binary order, at most 1000 per page;
 * the CLI follows the continuation tokens and prints every page merged). `startAfter` makes S3
 * begin after that key, so a listing bounded by where a reader already is costs one page
 * instead of the folder's whole history.
 */
export async function listObjects(
  ctx: StepContext,
  props: { readonly region: string; readonly bucket: string; readonly prefix: string; readonly startAfter?: string; readonly delimiter?: string },
): Promise<Listing> {
  const out = await ctx.cli.readJson<{ Contents?: S3Object[]; CommonPrefixes?: { Prefix: string }[] } | null>('aws', [
    's3api',
    'list-objects-v2',
    '--region',
    props.region,
    '--bucket',
    props.bucket,
    '--prefix',
    props.prefix,
    ...(props.startAfter ? ['--start-after', props.startAfter] : []),
    ...(props.delimiter ? ['--delimiter', props.delimiter] : []),
    '--output',
    'json',
  ]);
  return { contents: out?.Contents ?? [], prefixes: (out?.CommonPrefixes ?? []).map((p) => p.Prefix) };
}

/** `s3://bucket/path` → bucket and the key prefix of the folder (ending in `/`, or empty). */
export function splitS3Path(path: string): { readonly bucket: string; readonly prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(path);
  if (!match) throw new Error(`destinationPath: got ${JSON.stringify(path)}; expected s3://<bucket>[/<prefix>]`);
  const rest = match[2]!.replace(/\/+$/, '');
  return { bucket: match[1]!, prefix: rest ? `${rest}/` : '' };
}


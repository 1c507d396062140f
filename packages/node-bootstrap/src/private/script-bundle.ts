// The untyped lzma package's declaration must travel with this file to every project that compiles it through the path mapping.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./lzma.d.ts" />
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress } from 'lzma';
import { DOWNLOAD_PINS_FILE, downloadPinsFile } from '../download-lock';

/** Where the real scripts live; the renderer embeds them from here. */
export const SCRIPTS_DIR = join(__dirname, '..', '..', 'scripts');

/** Scripts each role needs (lib.sh is sourced by all of them). */
export const ROLE_SCRIPTS = {
  'control-plane': ['lib.sh', 'bootstrap.sh', 'node-prep.sh', 'control-plane.sh', 'etcd-slot.sh', 'join-material.sh', 'etcd-snapshot.sh', 'etcd-restore.sh', 'install-addons.sh', 'ci-kubeconfig.sh', 'kubelet-serving-approver.sh', 'service-account-issuer.sh', 'service-account-key-rotation.sh'],
  worker: ['lib.sh', 'bootstrap.sh', 'node-prep.sh', 'worker.sh'],
} as const;

const DELIMITER = 'NODE_BOOTSTRAP_EOF';

/**
 * Comment lines cost user-data bytes and change nothing at run time: they stay in the
 * repository files and are left out of what ships (the shebang stays).
 */
export function stripComments(script: string): string {
  return script
    .split('\n')
    .filter((line, i) => i === 0 || !/^\s*#/.test(line))
    .join('\n');
}

/**
 * One shell script that writes the role's scripts beside itself. Shipped compressed as a
 * single file: compressing all scripts together is a third smaller than one by one, and
 * base64 keeps `${`, quotes and backslashes out of the Terraform string the user data is.
 */
export function scriptBundle(role: keyof typeof ROLE_SCRIPTS): string {
  return filesScript(ROLE_SCRIPTS[role]);
}

/**
 * A bash script that writes these repository scripts (comments stripped) and the download pins
 * (download-lock.json) into its working directory: the role bundles, and the image bake
 * (`imageBakeScript`), which ships the same files rather than a copy of their functions.
 */
export function filesScript(files: readonly string[], prelude: readonly string[] = ['#!/usr/bin/env bash', 'set -eu', 'cd "$(dirname "$0")"']): string {
  const parts = [...prelude];
  const write = (file: string, body: string, mode: string) => {
    if (body.split('\n').includes(DELIMITER)) throw new Error(`${file} contains the bundle delimiter line ${DELIMITER}`);
    parts.push(`cat >${file} <<'${DELIMITER}'`, body, DELIMITER, `chmod ${mode} ${file}`);
  };
  for (const file of files) write(file, stripComments(readFileSync(join(SCRIPTS_DIR, file), 'utf8')).replace(/\n+$/, ''), '0755');
  write(DOWNLOAD_PINS_FILE, downloadPinsFile().replace(/\n$/, ''), '0644');
  return `${parts.join('\n')}\n`;
}

/**
 * The bundle as LZMA "alone" (.lzma) bytes. LZMA is ~6% smaller than gzip -9 on these scripts,
 * and the node decodes it with python3's stdlib (`FETCH_BUNDLE`). The encoder is pure JavaScript with integer arithmetic
 * only, so the same scripts give the same bytes on every run and Node version (synth stays
 * deterministic). Mode 7: an 8 MiB dictionary holds the whole bundle.
 */
export function compressedBundle(role: keyof typeof ROLE_SCRIPTS): Buffer {
  return Buffer.from(compress(scriptBundle(role), 7));
}

/**
 * The stub user data carries instead of the bundle (control-plane user data had 65 B left of
 * EC2's 16 KB). `python3 fetch-bundle.py <region> <bucket> <key> <version id> <sha256> <out>`
 * GETs exactly that object version through the VPC's S3 gateway endpoint (the regional
 * endpoint resolves to it; no NAT needed), signed (SigV4) with the instance role from IMDSv2,
 * retries with backoff for about 5 minutes, refuses bytes whose SHA-256 differs and decodes the
 * LZMA into `<out>`. It is node-bootstrap.service's first ExecStartPre=, so a run that gives up
 * is retried by the unit's restarts. python3's stdlib only: the AWS CLI is installed by
 * node-prep.sh, which is inside the bundle. An `<out>.lzma` already there with the right hash is
 * used as it is (a restart or reboot needs no network).
 */
export const FETCH_BUNDLE = readFileSync(join(SCRIPTS_DIR, 'fetch-bundle.py'), 'utf8');

/** A role's bundle as the S3 object holds it, and the SHA-256 user data pins. */
export interface BundleObject {
  readonly contentBase64: string;
  readonly sha256: string;
}

export function bundleObject(role: keyof typeof ROLE_SCRIPTS): BundleObject {
  const bytes = compressedBundle(role);
  return { contentBase64: bytes.toString('base64'), sha256: createHash('sha256').update(bytes).digest('hex') };
}

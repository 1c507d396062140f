import committed from './download-lock.json';
import type { ToolVersions } from './versions';

/*
 * Every file a node downloads with curl, pinned by version and SHA-256 in one committed file
 * (download-lock.json). The scripts never trust a checksum fetched beside the artefact (same
 * origin, same attacker): lib.sh's `fetch_pinned` compares the bytes with the pin shipped in the
 * bundle, whose own SHA-256 is in the launch template's user data.
 */

/** dpkg's architecture names, which the download URLs of etcd and helm use. */
export type DebianArchitecture = 'amd64' | 'arm64';

/** EC2's architecture name (platform-config) as dpkg names it. */
export function debianArchitecture(architecture: 'x86_64' | 'arm64'): DebianArchitecture {
  return architecture === 'x86_64' ? 'amd64' : 'arm64';
}

export interface PinnedDownload {
  /** Where the artefact comes from and where its hash was taken from (for the reviewer of a bump). */
  readonly source: string;
  /** SHA-256 by version, then architecture. */
  readonly sha256: Readonly<Record<string, Readonly<Partial<Record<DebianArchitecture, string>>>>>;
}

export interface DownloadLock {
  readonly 'aws-cli': PinnedDownload;
  readonly etcd: PinnedDownload;
  readonly helm: PinnedDownload;
  /** The pkgs.k8s.io signing key: its OpenPGP fingerprint anchors apt's signed hash chain to kubeadm/kubelet/kubectl. */
  readonly 'kubernetes-apt-key': { readonly source: string; readonly fingerprint: string };
}

export const DOWNLOAD_LOCK: DownloadLock = committed as DownloadLock;
export const DOWNLOAD_LOCK_FILE = 'packages/node-bootstrap/src/download-lock.json';
/** The file name in the script bundle (beside lib.sh). */
export const DOWNLOAD_PINS_FILE = 'download-pins.txt';

export type DownloadName = 'aws-cli' | 'etcd' | 'helm';

/** What a node of these tool versions downloads: name and version. */
export function downloadsOf(tools: Pick<ToolVersions, 'awsCli' | 'etcd' | 'helm'>): [DownloadName, string][] {
  return [
    ['aws-cli', tools.awsCli],
    ['etcd', tools.etcd],
    ['helm', tools.helm],
  ];
}

/** Every pin missing for these versions and architectures, as `<name> <version> <arch>: …` lines (empty: complete). */
export function missingPins(tools: Pick<ToolVersions, 'awsCli' | 'etcd' | 'helm'>, architectures: readonly DebianArchitecture[], lock: DownloadLock = DOWNLOAD_LOCK): string[] {
  return downloadsOf(tools).flatMap(([name, version]) =>
    architectures.filter((arch) => !/^[0-9a-f]{64}$/.test(lock[name].sha256[version]?.[arch] ?? '')).map((arch) => `${name} ${version} ${arch}: no SHA-256 in ${DOWNLOAD_LOCK_FILE}`),
  );
}

/**
 * The bundle's pins file: `<name> <version> <arch> <sha256>` per line, and
 * `kubernetes-apt-key - - <fingerprint>`; sorted, so the bundle stays byte-identical.
 */
export function downloadPinsFile(lock: DownloadLock = DOWNLOAD_LOCK): string {
  const lines: string[] = [];
  for (const name of ['aws-cli', 'etcd', 'helm'] as const) {
    for (const [version, byArch] of Object.entries(lock[name].sha256)) {
      for (const [arch, sha] of Object.entries(byArch)) lines.push(`${name} ${version} ${arch} ${sha}`);
    }
  }
  lines.sort();
  lines.push(`kubernetes-apt-key - - ${lock['kubernetes-apt-key'].fingerprint}`);
  return `${lines.join('\n')}\n`;
}

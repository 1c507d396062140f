import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';

/*
 * What kubeadm does with the kube-apiserver static pod, modelled on its documented behaviour:
 * it writes `kube-apiserver` followed by its default flags merged with ClusterConfiguration
 * `apiServer.extraArgs` (an extraArg name replaces every default of that name), sorted by name
 * and then value; its defaults include `--service-account-issuer=https://kubernetes.default.svc.<dnsDomain>`.
 * Then it applies the patches of `patches.directory`: files named `target[suffix][+patchtype].extension`,
 * taken in alphanumerical order, each split at `\n---` into YAML documents converted to JSON,
 * `json` meaning RFC 6902. kube-apiserver then reads repeated `--service-account-issuer` flags
 * in command-line order (the first signs, all are accepted) and refuses one given twice.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The flags kubeadm's manifest generator sets for kube-apiserver (v1.34), before extraArgs. */
const KUBEADM_DEFAULTS: readonly [string, string][] = [
  ['advertise-address', '10.20.1.10'],
  ['allow-privileged', 'true'],
  ['authorization-mode', 'Node,RBAC'],
  ['client-ca-file', '/etc/kubernetes/pki/ca.crt'],
  ['enable-admission-plugins', 'NodeRestriction'],
  ['enable-bootstrap-token-auth', 'true'],
  ['etcd-cafile', '/etc/kubernetes/pki/etcd/ca.crt'],
  ['etcd-certfile', '/etc/kubernetes/pki/apiserver-etcd-client.crt'],
  ['etcd-keyfile', '/etc/kubernetes/pki/apiserver-etcd-client.key'],
  ['etcd-servers', 'https://127.0.0.1:2379'],
  ['kubelet-client-certificate', '/etc/kubernetes/pki/apiserver-kubelet-client.crt'],
  ['kubelet-client-key', '/etc/kubernetes/pki/apiserver-kubelet-client.key'],
  ['kubelet-preferred-address-types', 'InternalIP,ExternalIP,Hostname'],
  ['proxy-client-cert-file', '/etc/kubernetes/pki/front-proxy-client.crt'],
  ['proxy-client-key-file', '/etc/kubernetes/pki/front-proxy-client.key'],
  ['requestheader-allowed-names', 'front-proxy-client'],
  ['requestheader-client-ca-file', '/etc/kubernetes/pki/front-proxy-ca.crt'],
  ['requestheader-extra-headers-prefix', 'X-Remote-Extra-'],
  ['requestheader-group-headers', 'X-Remote-Group'],
  ['requestheader-username-headers', 'X-Remote-User'],
  ['secure-port', '6443'],
  ['service-account-issuer', 'https://kubernetes.default.svc.cluster.local'],
  ['service-account-key-file', '/etc/kubernetes/pki/sa.pub'],
  ['service-account-signing-key-file', '/etc/kubernetes/pki/sa.key'],
  ['service-cluster-ip-range', '100.65.0.0/16'],
  ['tls-cert-file', '/etc/kubernetes/pki/apiserver.crt'],
  ['tls-private-key-file', '/etc/kubernetes/pki/apiserver.key'],
];

export interface Arg {
  readonly name: string;
  readonly value: string;
}

/**
 * The etcd static pod's volumes as kubeadm writes them: its data dir and certificate dir, both
 * hostPath `DirectoryOrCreate`, listed sorted by volume name (staticpod VolumeMapToSlice).
 */
export function kubeadmEtcdPod(dataDir = '/var/lib/etcd'): { [key: string]: Json } {
  const volumes = [
    { name: 'etcd-data', hostPath: { path: dataDir, type: 'DirectoryOrCreate' } },
    { name: 'etcd-certs', hostPath: { path: '/etc/kubernetes/pki/etcd', type: 'DirectoryOrCreate' } },
  ].sort((a, b) => compare(a.name, b.name));
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'etcd', namespace: 'kube-system' }, spec: { hostNetwork: true, containers: [{ name: 'etcd', command: ['etcd', `--data-dir=${dataDir}`] }], volumes } };
}

/** The kube-apiserver static pod kubeadm generates from ClusterConfiguration `apiServer.extraArgs`. */
export function kubeadmApiServerPod(extraArgs: readonly Arg[]): { [key: string]: Json } {
  const overridden = new Set(extraArgs.map((a) => a.name));
  const args = [...KUBEADM_DEFAULTS.filter(([name]) => !overridden.has(name)).map(([name, value]) => ({ name, value })), ...extraArgs];
  args.sort((a, b) => (a.name === b.name ? compare(a.value, b.value) : compare(a.name, b.name)));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-apiserver', namespace: 'kube-system' },
    spec: { hostNetwork: true, containers: [{ name: 'kube-apiserver', image: 'registry.k8s.io/kube-apiserver:v1.34.1', command: ['kube-apiserver', ...args.map((a) => `--${a.name}=${a.value}`)] }] },
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** kubeadm's patch targets: a file name starts with one, then an optional suffix. */
const KNOWN_TARGETS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'kubeletconfiguration', 'corednsdeployment'];

const PATCH_TYPES = ['strategic', 'merge', 'json'] as const;

/** kubeadm's patches directory applied to `target`'s object: files in name order, only `json` type modelled. */
export function applyKubeadmPatches(target: string, object: { [key: string]: Json }, files: Readonly<Record<string, string>>): { [key: string]: Json } {
  let result: Json = structuredClone(object);
  for (const name of Object.keys(files).sort(compare)) {
    const match = /^([^+.]+)(?:\+([^.]+))?\.(json|yaml)$/.exec(name);
    const known = match && KNOWN_TARGETS.find((t) => match[1].startsWith(t));
    if (!match || known !== target) continue; // another target, or not a patch file: kubeadm ignores it
    const type = match[2] ?? 'strategic';
    if (!(PATCH_TYPES as readonly string[]).includes(type)) throw new Error(`unknown patch type "${type}" from file name "${name}"`);
    if (type !== 'json') throw new Error(`model: only json patches are modelled (${name})`);
    for (const document of files[name].split('\n---')) {
      const operations = parse(document) as Json;
      if (!Array.isArray(operations)) throw new Error(`${name}: a JSON patch is an array of operations`);
      result = applyJsonPatch(result, operations as unknown as JsonPatchOp[]);
    }
  }
  return result as { [key: string]: Json };
}

export interface JsonPatchOp {
  readonly op: string;
  readonly path: string;
  readonly value?: Json;
  readonly from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${path} does not start with "/"`);
  return path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], path: string): Json {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length - 1, path)];
    else if (node !== null && typeof node === 'object' && token in node) node = node[token];
    else throw new Error(`path ${path}: ${token} does not exist`);
  }
  return node;
}

function arrayIndex(token: string, max: number, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`path ${path}: ${token} is not an array index`);
  const index = Number(token);
  if (index > max) throw new Error(`path ${path}: index ${index} is out of range`);
  return index;
}

/** RFC 6902 add, remove, replace and test (the operations a static-pod patch needs); the document is not changed on failure. */
export function applyJsonPatch(document: Json, operations: readonly JsonPatchOp[]): Json {
  const doc = structuredClone(document);
  for (const operation of operations) {
    const tokens = pointer(operation.path);
    const last = tokens[tokens.length - 1];
    const parent = parentOf(doc, tokens, operation.path);
    const current = (): Json => {
      if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length - 1, operation.path)];
      if (parent !== null && typeof parent === 'object' && last in parent) return parent[last];
      throw new Error(`path ${operation.path} does not exist`);
    };
    switch (operation.op) {
      case 'test':
        if (!isDeepStrictEqual(current(), operation.value)) throw new Error(`test failed at ${operation.path}: ${JSON.stringify(current())} is not ${JSON.stringify(operation.value)}`);
        break;
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : arrayIndex(last, parent.length, operation.path), 0, structuredClone(operation.value as Json));
        else if (parent !== null && typeof parent === 'object') parent[last] = structuredClone(operation.value as Json);
        else throw new Error(`path ${operation.path}: parent is not a container`);
        break;
      case 'remove':
        current();
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete (parent as { [key: string]: Json })[last];
        break;
      case 'replace':
        current();
        if (Array.isArray(parent)) parent[Number(last)] = structuredClone(operation.value as Json);
        else (parent as { [key: string]: Json })[last] = structuredClone(operation.value as Json);
        break;
      default:
        throw new Error(`model: JSON patch op ${operation.op} is not modelled`);
    }
  }
  return doc;
}

export interface ApiServerIssuers {
  /** The issuer new tokens carry (the first `--service-account-issuer`). */
  readonly signs: string;
  /** Every issuer a token may carry. */
  readonly accepts: readonly string[];
  /** `--api-audiences`, or kube-apiserver's default: every issuer. */
  readonly audiences: readonly string[];
  readonly jwksUri: string | undefined;
}

/** How kube-apiserver reads its service-account flags from the static pod's command. */
export function apiServerIssuers(pod: { [key: string]: Json }): ApiServerIssuers {
  const container = ((pod.spec as { containers: { command: string[] }[] }).containers)[0];
  const values = (name: string) => container.command.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
  const issuers = values('service-account-issuer');
  const seen = new Set<string>();
  for (const issuer of issuers) {
    if (seen.has(issuer)) throw new Error(`kube-apiserver: service-account-issuer "${issuer}" is already specified`);
    seen.add(issuer);
  }
  if (issuers.length === 0) throw new Error('kube-apiserver: service-account-issuer is a required flag');
  const audiences = values('api-audiences');
  return { signs: issuers[0], accepts: issuers, audiences: audiences.length > 0 ? audiences.flatMap((v) => v.split(',')) : issuers, jwksUri: values('service-account-jwks-uri').at(-1) };
}

/** kube-apiserver's `--service-account-key-file` values (repeatable: it verifies with the keys of every file), in order. */
export function apiServerKeyFiles(pod: { [key: string]: Json }): string[] {
  const container = ((pod.spec as { containers: { command: string[] }[] }).containers)[0];
  return container.command.filter((a) => a.startsWith('--service-account-key-file=')).map((a) => a.slice('--service-account-key-file='.length));
}

import { exec } from '../private/exec';

/** The Kubernetes calls scale day makes; kubectl in production, a fake in tests. */
export interface KubeClient {
  /** `kubectl get <args> -o json`, parsed. */
  getJson(args: readonly string[]): unknown;
  /** `kubectl apply -f -` of these objects. */
  apply(objects: readonly object[]): void;
  /** `kubectl delete <kind> <name> -n <ns> --ignore-not-found`. */
  delete(kind: string, namespace: string, name: string): void;
  /** `kubectl logs job/<name> -n <ns>`. */
  logs(namespace: string, job: string): string;
  /** `kubectl create token <serviceAccount> -n <ns> --duration=<s>s`: a short-lived token (TokenRequest). */
  createToken(namespace: string, serviceAccount: string, seconds: number): string;
}

/** kubectl through the pipeline's exec (no shell), with the runner's KUBECONFIG. */
export function kubectl(options: { readonly kubeconfig?: string; readonly context?: string } = {}): KubeClient {
  const base = [...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : []), ...(options.context ? ['--context', options.context] : []), '--request-timeout=20s'];
  const run = (args: readonly string[], input?: string): string => {
    const r = exec('kubectl', [...base, ...args], input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };
  return {
    getJson: (args) => JSON.parse(run(['get', ...args, '-o', 'json'])) as unknown,
    apply: (objects) => void run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects })),
    delete: (kind, namespace, name) => void run(['delete', kind, name, '-n', namespace, '--ignore-not-found', '--wait=false']),
    logs: (namespace, job) => run(['logs', `job/${job}`, '-n', namespace]),
    createToken: (namespace, serviceAccount, seconds) => run(['create', 'token', serviceAccount, '-n', namespace, `--duration=${seconds}s`]).trim(),
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { defaultPlatform } from '@platform/platform-config';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runWithFakes, startIngress } from './harness';
import { archive, asgs, DR_ASGS, nodes, PROD_NLB, PROD_NLB_IPS, PROD_ZONES, primaryUpsertCall, scenario } from './scenario';

let servers: Server[] = [];
afterEach(() => {
  servers.forEach((s) => s.close());
  servers = [];
});

const platform = defaultPlatform();
const drNames = platform.namesOf(platform.cluster('dr'));
const credentials = drNames.appBackupCredentials;
const drBucket = drNames.appBackupBucket;

const liveStandbyDatabase = {
  tool: 'kubectl' as const,
  match: '^--context dr get clusters.postgresql.cnpg.io orders -n data -o json',
  responses: [
    {
      stdout: {
        spec: {
          backup: {
            barmanObjectStore: {
              destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders',
              serverName: 'orders-r0',
              s3Credentials: {
                accessKeyId: { name: credentials.secretName, key: credentials.keys.accessKeyId },
                secretAccessKey: { name: credentials.secretName, key: credentials.keys.secretAccessKey },
              },
            },
          },
        },
      },
    },
  ],
};

async function failbackRun(extraArgs: string[] = [], overrides: Partial<Parameters<typeof scenario>[0]> = {}) {
  const web = await startIngress();
  servers.push(web.server);
  const rules = scenario({
    ingress: web.endpoint,
    primaryHealthy: true,
    nodeResponses: [nodes(PROD_ZONES, 2)],
    asgResponses: [asgs(2, 2, 2), asgs(1, 1, 2)],
    dnsAnswer: PROD_NLB_IPS,
    extra: [liveStandbyDatabase],
    ...overrides,
  });
  return { web, run: await runWithFakes(['failback', '--primary', 'production', '--replace-database', '--poll-seconds', '0', '--probe-attempts', '2', ...extraArgs], rules) };
}

describe('failback --primary production', () => {
  it('fences the standby, restores the primary from its latest backup, then returns dr to pilot light', async () => {
    const { run, web } = await failbackRun();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const prod = 'kubectl --context production';
    const dr = 'kubectl --context dr';
    const describeAsgs = `aws autoscaling describe-auto-scaling-groups --region ap-northeast-1 --auto-scaling-group-names ${DR_ASGS.join(' ')} --output json`;
    const scaleToZero = (side: string) => [
      `${side} patch deployment orders-api -n data --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`,
      `${side} patch deployment web -n web --type merge -p {"spec":{"replicas":0}} --field-manager=platform-failover`,
    ];
    expect(run.calls).toEqual([
      'aws sts get-caller-identity --region ap-northeast-2 --output json',
      `${prod} get --raw=/readyz`,
      `${dr} get --raw=/readyz`,
      'aws route53 get-hosted-zone --id Z0HAKUBE --output json',
      'aws route53 list-resource-record-sets --hosted-zone-id Z0HAKUBE --start-record-name app.hakube.example.com --start-record-type A --max-items 10 --output json',
      'aws route53 get-health-check-status --health-check-id hc-production --output json',
      `${prod} get nodes -o json`,
      // The returned primary stays fenced (idempotent if `failover fence` already ran).
      `${prod} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `${prod} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      ...scaleToZero(prod),
      ...scaleToZero(dr),
      `${dr} apply -f ${join(run.outDir, 'dr-orders-failback-r1.yaml')}`,
      `${dr} wait backups.postgresql.cnpg.io/orders-failback-r1 -n data --for=jsonpath={.status.phase}=completed --timeout=1800s`,
      `${dr} get clusters.postgresql.cnpg.io orders -n data -o json`,
      `${prod} get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o name`,
      // Production's database is deleted only after the fenced backup of it is found.
      `${prod} get backups.postgresql.cnpg.io -n data -l failover.platform.io/purpose=fenced -o json`,
      `${prod} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `${prod} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":true}} --field-manager=platform-failover`,
      `${prod} delete clusters.postgresql.cnpg.io orders -n data --wait=true --timeout=1800s`,
      `${prod} apply -f ${join(run.outDir, 'production-orders-recovery.yaml')}`,
      `${prod} wait clusters.postgresql.cnpg.io/orders -n data --for=condition=Ready --timeout=1800s`,
      `${prod} get deployment orders-api -n data -o json`,
      `${prod} scale deployment orders-api -n data --replicas=3`,
      `${prod} rollout status deployment/orders-api -n data --timeout=600s`,
      `${prod} get deployment web -n web -o json`,
      `${prod} scale deployment web -n web --replicas=3`,
      `${prod} rollout status deployment/web -n web --timeout=600s`,
      'aws elbv2 describe-load-balancers --region ap-northeast-2 --names production-ingress --query LoadBalancers[0].DNSName --output text',
      'aws elbv2 describe-load-balancers --region ap-northeast-2 --names production-ingress --query LoadBalancers[0].[DNSName,CanonicalHostedZoneId] --output json',
      primaryUpsertCall(PROD_NLB, true),
      'aws route53 update-health-check --health-check-id hc-production --resource-path /ready --output json',
      'aws route53 update-health-check --health-check-id hc-dr --resource-path /region-failover-not-promoted --output json',
      'aws route53 get-health-check-status --health-check-id hc-production --output json',
      'aws route53 get-health-check-status --health-check-id hc-dr --output json',
      'aws ec2 describe-network-interfaces --region ap-northeast-2 --filters Name=description,Values=ELB net/production-ingress/* --query NetworkInterfaces[].Association.PublicIp --output json',
      'aws route53 test-dns-answer --hosted-zone-id Z0HAKUBE --record-name app.hakube.example.com --record-type A --output json',
      `${dr} delete clusters.postgresql.cnpg.io orders -n data --ignore-not-found --wait=true --timeout=1800s`,
      `${dr} get kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --ignore-not-found -o name`,
      `aws s3api list-objects-v2 --region ap-northeast-1 --bucket ${drBucket} --prefix postgres/orders/orders/ --max-items 1 --query Contents[].Key --output json`,
      `${dr} patch kustomizations.kustomize.toolkit.fluxcd.io apps -n flux-system --type merge -p {"spec":{"suspend":false}} --field-manager=platform-failover`,
      describeAsgs,
      ...DR_ASGS.map((g) => `aws autoscaling update-auto-scaling-group --region ap-northeast-1 --auto-scaling-group-name ${g} --min-size 1 --desired-capacity 1`),
      describeAsgs,
      `aws ssm delete-parameter --region ap-northeast-1 --name ${drNames.ssm.promotedMarker}`,
    ]);
    // Git now names the restored primary's archive, so the next promotion restores from it.
    expect(readFileSync(run.archivesFile, 'utf8')).toContain('DATABASE_ARCHIVE_SERVER_NAMES: Readonly<Record<string, string>> = {\n  "production": "orders-r1",\n};');
    expect(web.orders).toEqual(['failover-check-r1-failback']);
    expect(web.hosts.every((h) => h === 'app.hakube.example.com')).toBe(true);
    // Data flows back from the standby's own bucket (cross-region read, no replication lag).
    const [, cluster] = parseAllDocuments(readFileSync(join(run.outDir, 'production-orders-recovery.yaml'), 'utf8')).map((d) => d.toJSON());
    expect(cluster.spec.externalClusters[0].barmanObjectStore).toMatchObject({
      destinationPath: 's3://hakube-dr-app-backups-ap-northeast-1/postgres/orders',
      serverName: 'orders-r0',
      endpointURL: 'https://s3.ap-northeast-1.amazonaws.com',
    });
    expect(cluster.spec.backup.barmanObjectStore).toMatchObject({
      destinationPath: 's3://hakube-production-app-backups-ap-northeast-2/postgres/orders',
      serverName: 'orders-r1',
      endpointURL: 'https://s3.ap-northeast-2.amazonaws.com',
    });
  });

  it('stops before touching anything when the final backup fails, saying the app is fenced', async () => {
    const { run } = await failbackRun([], {
      extra: [liveStandbyDatabase, { tool: 'kubectl', match: ' wait backups', responses: [{ stderr: 'error: timed out waiting for the condition\n', code: 1 }] }],
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED at step final-backup: backup orders-failback-r1 on dr did not complete:');
    expect(run.stdout).toContain('completed steps: preflight, primary-nodes-ready, fence-primary-apps, fence-standby-app');
    expect(run.stdout).toContain(
      'not started: restore-database, verify-app, record-archive-server-name, close-standby, dns-report, retire-standby-database, scale-standby-down, clear-promoted-marker',
    );
    // Production was only fenced further (suspend, scale to 0): nothing of it applied or deleted.
    expect(run.calls.some((c) => c.startsWith('kubectl --context production') && / (apply|delete) /.test(c))).toBe(false);
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    expect(journal.steps[3].notes).toContain('undo: kubectl --context dr scale deployment -n <namespace> <name> --replicas=3 for data/orders-api, web/web');
  });

  it("leaves dr's Flux suspended, saying what to clean, when Git's copy would find its archive folder non-empty", async () => {
    const { run } = await failbackRun([], { drBucket: archive('orders', 86400 * 3) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.calls.some((c) => c.includes('"suspend":false'))).toBe(false);
    const warning = `warning: Flux Kustomization apps on dr left suspended: s3://${drBucket}/postgres/orders/orders/ holds the pilot-light archive from before the promotion`;
    expect(run.stdout).toContain(warning);
    expect(run.stdout).toContain(
      `then: aws s3 rm --recursive --region ap-northeast-1 s3://${drBucket}/postgres/orders/orders/ && kubectl --context dr -n flux-system patch kustomization apps --type merge -p '{"spec":{"suspend":false}}' --field-manager=platform-failover`,
    );
    const journal = JSON.parse(readFileSync(join(run.outDir, 'journal.json'), 'utf8'));
    const retire = journal.steps.find((s: { step: string }) => s.step === 'retire-standby-database');
    expect(retire.status).toBe('done');
    expect(retire.notes.some((n: string) => n.startsWith(warning))).toBe(true);
    // dr still returns to pilot light.
    expect(run.calls.filter((c) => c.startsWith('aws autoscaling update-auto-scaling-group'))).toHaveLength(DR_ASGS.length);
  });

  it("never deletes the returned primary's database without a completed fenced backup", async () => {
    const { run } = await failbackRun([], {
      fencedBackups: { stdout: { items: [{ metadata: { name: 'orders-fenced-r0' }, spec: { cluster: { name: 'orders' } }, status: { phase: 'failed' } }] } },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "FAILED at step restore-database: production's data/orders has no completed fenced backup; it may hold writes made after the promotion. Run: npm run failover -- fence --primary production",
    );
    expect(run.calls.some((c) => c.startsWith('kubectl --context production delete'))).toBe(false);
    expect(readFileSync(run.archivesFile, 'utf8')).toContain('= {};');
  });
});

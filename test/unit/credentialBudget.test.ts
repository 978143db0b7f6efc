import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CredentialInfo } from '../../src/azure/identities';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import {
  credentialBudget,
  groupCredentials,
  identitiesWorthShowing,
} from '../../src/workloadIdentity/credentialBudget';
import { credentialGroupLook, identityLook } from '../../src/ui/tree/looks';

const cluster = (name: string, issuer: string) =>
  clusterFromRaw({
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/${name}`,
    name,
    location: 'eastus',
    properties: { oidcIssuerProfile: { enabled: true, issuerURL: issuer } },
  });
const ISSUER_A = 'https://eastus.oic.prod-aks.azure.com/t/a/';
const ISSUER_B = 'https://eastus.oic.prod-aks.azure.com/t/b/';
const fic = (name: string, issuer: string, subject?: string): CredentialInfo => ({
  name,
  issuer,
  ...(subject ? { subject } : {}),
  audiences: ['api://AzureADTokenExchange'],
});

describe("an identity's credential budget and its credentials by cluster", () => {
  it('shows used/20, a warning from 18, and full at 20', () => {
    const look = (n: number) => identityLook({ name: 'id', resourceGroup: 'rg', clientId: 'c' }, credentialBudget(n));
    assert.deepEqual(
      [17, 18, 19, 20].map((n) => `${look(n).description} ${look(n).icon} ${look(n).contextValue}`),
      [
        '17/20 credentials key identity.ok',
        '18/20 credentials warning identity.warning',
        '19/20 credentials warning identity.warning',
        '20/20 credentials warning identity.full',
      ],
    );
    assert.match(look(20).tooltip!, /No credential can be added: an identity holds at most 20/);
    assert.match(look(19).tooltip!, /Close to the limit of 20/);
  });

  it('groups by the cluster whose issuer a credential names exactly; a trailing-slash near miss is flagged under it', () => {
    const groups = groupCredentials(
      [
        fic('a1', ISSUER_A, 'system:serviceaccount:x:y'),
        fic('a2', ISSUER_A.slice(0, -1), 'system:serviceaccount:x:z'),
        fic('b1', ISSUER_B, 'system:serviceaccount:x:y'),
      ],
      [cluster('aks-a', ISSUER_A), cluster('aks-b', ISSUER_B)],
    );
    assert.deepEqual(
      groups.map((g) =>
        g.kind === 'cluster'
          ? `${g.cluster.name}: ${g.credentials.map((c) => c.name)} / ${g.nearMiss.map((c) => c.name)}`
          : g.kind,
      ),
      ['aks-a: a1 / a2', 'aks-b: b1 / '],
    );
    assert.equal(credentialGroupLook(groups[0]!).contextValue, 'credentialGroup.cluster.broken');
  });

  it("credentials that name no cluster you can see (a deleted or rebuilt cluster, an unselected subscription's) are apart; other tools' are what they are", () => {
    const groups = groupCredentials(
      [
        fic('old', 'https://eastus.oic.prod-aks.azure.com/t/deleted/', 'system:serviceaccount:x:y'),
        fic('elsewhere', 'https://westus.oic.prod-aks.azure.com/t/unselected/', 'system:serviceaccount:x:y'),
        fic('deploy', 'https://token.actions.githubusercontent.com', 'repo:contoso/app:ref:refs/heads/main'),
        fic('flexible', 'https://token.actions.githubusercontent.com'),
        fic('aks-identity-binding', 'https://ib.oic.prod-aks.azure.com/t/client', 'system:serviceaccount:x:y'),
        fic('gitlab', 'https://gitlab.com', 'project_path:contoso/app:ref_type:branch:ref:main'),
      ],
      [cluster('aks-a', ISSUER_A)],
    );
    assert.deepEqual(
      groups.map((g) => `${g.kind === 'otherTool' ? g.tool : g.kind}: ${g.credentials.map((c) => c.name).join(', ')}`),
      [
        'AKS identity binding: aks-identity-binding',
        'GitHub Actions: deploy, flexible',
        'GitLab: gitlab',
        'noKnownCluster: old, elsewhere',
      ],
    );
    const orphans = credentialGroupLook(groups.at(-1)!);
    assert.equal(orphans.label, 'Issuer of no known cluster');
    assert.match(orphans.tooltip!, /a deleted or rebuilt cluster .*a subscription that is not selected/);
  });

  it('a credential without a subject from an unknown issuer matches by expression, never an orphan', () => {
    const [g] = groupCredentials([fic('expr', 'https://issuer.example.com')], []);
    assert.equal(g?.kind === 'otherTool' && g.tool, 'matches by expression');
  });

  it('the tree shows identities that federate with anything, or that this extension made', () => {
    const identity = (name: string, credentials: CredentialInfo[], tags: Record<string, string> = {}) => ({
      id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
      name,
      subscriptionId: 's',
      resourceGroup: 'rg',
      location: 'eastus',
      clientId: 'c',
      principalId: 'p',
      tenantId: 't',
      tags,
      credentials,
    });
    assert.deepEqual(
      identitiesWorthShowing([
        identity('id-z', [fic('a', ISSUER_A, 's')]),
        identity('id-unused', []),
        identity('id-ours', [], { 'created-by': 'vscode-aks-workload-identity' }),
      ]).map((i) => i.name),
      ['id-ours', 'id-z'],
    );
  });
});

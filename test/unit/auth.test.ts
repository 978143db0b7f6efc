import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseAuthMethod, accountClaims } from '../../src/auth/account';
import { AKS_SERVER_SCOPE, CloudConfigurationError, armScope, portalLink, resolveCloud } from '../../src/auth/cloud';
import { issueToken } from '../sim/tokens';

describe('cloud endpoints from microsoft-sovereign-cloud settings', () => {
  it('defaults to public Azure and the microsoft provider', () => {
    const c = resolveCloud({});
    assert.equal(c.resourceManagerEndpoint, 'https://management.azure.com/');
    assert.equal(c.authProviderId, 'microsoft');
    assert.equal(armScope(c), 'https://management.azure.com/.default');
  });

  it('knows the sovereign clouds, which sign in through microsoft-sovereign-cloud', () => {
    assert.equal(
      resolveCloud({ environment: 'ChinaCloud' }).resourceManagerEndpoint,
      'https://management.chinacloudapi.cn/',
    );
    assert.equal(
      resolveCloud({ environment: 'USGovernment' }).resourceManagerEndpoint,
      'https://management.usgovcloudapi.net/',
    );
    assert.equal(resolveCloud({ environment: 'USGovernment' }).authProviderId, 'microsoft-sovereign-cloud');
  });

  it('takes a custom environment, adding the trailing slash the scope needs', () => {
    const c = resolveCloud({
      environment: 'custom',
      customEnvironment: {
        name: 'Azure Stack',
        resourceManagerEndpointUrl: 'https://management.local.azurestack.external',
        portalUrl: 'https://portal.local',
      },
    });
    assert.equal(c.resourceManagerEndpoint, 'https://management.local.azurestack.external/');
    assert.equal(armScope(c), 'https://management.local.azurestack.external/.default');
    assert.equal(c.displayName, 'Azure Stack');
    assert.equal(portalLink(c, 't1', '/subscriptions/s/x'), 'https://portal.local/#@t1/resource/subscriptions/s/x');
    // VS Code's Microsoft account needs every field; this extension only the ARM endpoint.
    assert.deepEqual(c.vsCodeAccountMissing, [
      'managementEndpointUrl',
      'activeDirectoryEndpointUrl',
      'activeDirectoryResourceId',
    ]);
    const complete = resolveCloud({
      environment: 'custom',
      customEnvironment: {
        name: 'n',
        portalUrl: 'https://p',
        managementEndpointUrl: 'https://m/',
        resourceManagerEndpointUrl: 'https://r/',
        activeDirectoryEndpointUrl: 'https://a/',
        activeDirectoryResourceId: 'https://r/',
      },
    });
    assert.equal(complete.vsCodeAccountMissing, undefined);
  });

  it('names the setting that is wrong', () => {
    assert.throws(
      () => resolveCloud({ environment: 'custom' }),
      (e: Error) => e instanceof CloudConfigurationError && /resourceManagerEndpointUrl is required/.test(e.message),
    );
    assert.throws(
      () => resolveCloud({ environment: 'custom', customEnvironment: { resourceManagerEndpointUrl: 'http://x' } }),
      /must use https/,
    );
    assert.throws(() => resolveCloud({ environment: 'Mars' }), /not one of ChinaCloud, USGovernment or custom/);
  });

  it('uses the AKS server application for cluster tokens', () => {
    assert.equal(AKS_SERVER_SCOPE, '6dae42f8-4368-4678-94ff-3960e28e3630/.default');
  });
});

describe('credential selection', () => {
  it('auto prefers the VS Code account, then a signed-in Azure CLI, then asks VS Code', () => {
    assert.equal(chooseAuthMethod('auto', { vscodeSession: true, azureCli: true }), 'vscode');
    assert.equal(chooseAuthMethod('auto', { vscodeSession: false, azureCli: true }), 'azureCli');
    assert.equal(chooseAuthMethod('auto', { vscodeSession: false, azureCli: false }), 'vscode');
  });

  it('an explicit setting wins', () => {
    assert.equal(chooseAuthMethod('azureCli', { vscodeSession: true, azureCli: false }), 'azureCli');
    assert.equal(chooseAuthMethod('vscode', { vscodeSession: false, azureCli: true }), 'vscode');
  });

  it('reads who signed in from the token, and survives a token that is not a JWT', () => {
    const t = issueToken('s', { aud: 'a', tid: 'tenant-1', oid: 'o', upn: 'someone@contoso.com', exp: 9e9 });
    assert.deepEqual(accountClaims(t), { upn: 'someone@contoso.com', tid: 'tenant-1', oid: 'o', name: undefined });
    assert.deepEqual(accountClaims('opaque'), {});
  });
});

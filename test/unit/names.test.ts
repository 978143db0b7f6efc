import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  credentialName,
  defaultIdentityName,
  roleAssignmentName,
  validateCredentialName,
  validateIdentityName,
  validateManifestPath,
  validateNamespace,
  validateResourceGroupName,
  validateServiceAccountName,
} from '../../src/workloadIdentity/names';

// The services' own rules, written independently of the validators, as the oracle.
const K8S_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const K8S_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ARM_IDENTITY = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;
const ARM_CREDENTIAL = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;

const nasty = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.fullUnicodeString({ maxLength: 80 }),
  fc.constantFrom(
    '',
    ' ',
    '  padded ',
    '../etc/passwd',
    'a/../../b.yaml',
    'key: value',
    '"quoted"',
    "'single'",
    '{a: 1}',
    '- item',
    '#comment',
    '&anchor',
    '*alias',
    '|',
    '>',
    'a\nb',
    '\u0000',
    'ÄÖÜ',
    'ns:colon',
    'x'.repeat(64),
    'y'.repeat(254),
  ),
);

describe('input validation names the rule and agrees with the service', () => {
  it('namespace: DNS-1123 label, at most 63', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const ok = s.length <= 63 && K8S_LABEL.test(s);
        const msg = validateNamespace(s);
        assert.equal(msg === undefined, ok, `${JSON.stringify(s)} -> ${msg}`);
        if (msg) assert.match(msg, /DNS-1123 label|required/);
      }),
      { numRuns: 2000 },
    );
  });

  it('ServiceAccount: DNS-1123 subdomain, at most 253', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const ok = s.length <= 253 && K8S_SUBDOMAIN.test(s);
        const msg = validateServiceAccountName(s);
        assert.equal(msg === undefined, ok, `${JSON.stringify(s)} -> ${msg}`);
        if (msg) assert.match(msg, /DNS-1123 subdomain|required/);
      }),
      { numRuns: 2000 },
    );
  });

  it('identity name: 3-128 of letters, digits, - and _', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        assert.equal(validateIdentityName(s) === undefined, ARM_IDENTITY.test(s), JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('credential name: 3-120 of letters, digits, - and _', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        assert.equal(validateCredentialName(s) === undefined, ARM_CREDENTIAL.test(s), JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('resource group: at most 90, no trailing period', () => {
    assert.equal(validateResourceGroupName('rg-petclinic'), undefined);
    assert.equal(validateResourceGroupName('rg.(prod)_1'), undefined);
    assert.match(validateResourceGroupName('rg.')!, /cannot end with '\.'/);
    assert.match(validateResourceGroupName('r'.repeat(91))!, /at most 90/);
    assert.match(validateResourceGroupName('rg/1')!, /letters, digits/);
    assert.match(validateResourceGroupName('')!, /required/);
  });

  it('manifest path: relative, inside the workspace, a YAML file', () => {
    assert.equal(validateManifestPath('k8s/payments/sa.serviceaccount.yaml'), undefined);
    assert.match(validateManifestPath('../x.yaml')!, /inside the workspace/);
    assert.match(validateManifestPath('a/../../x.yaml')!, /inside the workspace/);
    assert.match(validateManifestPath('/etc/x.yaml')!, /relative/);
    assert.match(validateManifestPath('C:\\x.yaml')!, /relative/);
    assert.match(validateManifestPath('k8s/x.txt')!, /\.yaml or \.yml/);
    assert.match(validateManifestPath(' ')!, /required/);
    fc.assert(
      fc.property(nasty, (s) => {
        if (validateManifestPath(s) !== undefined) return;
        // Whatever passes stays inside the workspace once joined and normalized.
        const joined = path.posix.normalize(`/ws/${s.replace(/\\/g, '/')}`);
        assert.ok(joined.startsWith('/ws/'), `${JSON.stringify(s)} escapes: ${joined}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('derived names', () => {
  it('default identity and credential names are always valid and deterministic', () => {
    const seg = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,250}[a-z0-9])?$/);
    fc.assert(
      fc.property(seg, seg, seg, (cluster, ns, sa) => {
        const id = defaultIdentityName(ns.slice(0, 63), sa);
        assert.equal(validateIdentityName(id), undefined, id);
        const fic = credentialName(cluster, ns.slice(0, 63), sa);
        assert.equal(validateCredentialName(fic), undefined, fic);
        assert.equal(credentialName(cluster, ns.slice(0, 63), sa), fic);
      }),
      { numRuns: 1000 },
    );
    assert.equal(
      credentialName('aks-petclinic', 'spring-petclinic', 'workload-identity-sa'),
      'fic-aks-petclinic-spring-petclinic-workload-identity-sa',
    );
  });

  it('long names are cut with a hash, so different inputs stay different', () => {
    const a = credentialName('c'.repeat(100), 'ns', 'sa-one');
    const b = credentialName('c'.repeat(100), 'ns', 'sa-two');
    assert.notEqual(a, b);
    assert.ok(a.length <= 120);
  });

  it('role assignment names are GUIDs derived from scope, role and principal', () => {
    const a = roleAssignmentName('/subscriptions/x/rg/VAULT', '4633458b-17de-408a-b874-0445c86b69e6', 'p1');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(
      a,
      roleAssignmentName('/subscriptions/x/rg/vault', '4633458B-17de-408a-b874-0445c86b69e6', 'P1'),
      'case does not matter, as in ARM',
    );
    assert.notEqual(a, roleAssignmentName('/subscriptions/x/rg/vault', 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba', 'p1'));
  });
});

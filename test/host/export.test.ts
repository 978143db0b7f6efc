import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import { isWrite } from '../sim/faults';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { cleanUp, extensionApi, findNode, freshWorld, newIdentityBindAnswers, sim } from './support';

const openText = () => vscode.workspace.textDocuments.filter((d) => d.isUntitled).map((d) => d.getText());

describe('Export Binding as Code (extension host)', () => {
  beforeEach(freshWorld);
  afterEach(cleanUp);

  it('from the Bind review: opens the script of the plan, writes nothing, and the review comes back', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      ...newIdentityBindAnswers(['get on secrets']),
      { pick: '$(export) Export as…' },
      { pick: 'az CLI and kubectl script' },
      { dismiss: true },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    assert.equal(prompter.remaining, 0);
    assert.equal(
      prompter.recorded.filter((r) => r.title === 'Bind Key Vault: review').length,
      2,
      'the review again after the export',
    );
    const script = openText().find((t) => t.startsWith('#!/usr/bin/env bash'))!;
    assert.ok(script);
    assert.match(
      script,
      /\nCLUSTERS=\(\n {2}'[0-9a-f-]{36} rg-petclinic aks-petclinic fic-aks-petclinic-\S+ public'\n\)/,
    );
    assert.match(script, /--secret-permissions get/);
    assert.doesNotMatch(script, /--key-permissions/);
    assert.equal(vscode.window.activeTextEditor?.document.languageId, 'shellscript');
    assert.deepEqual(
      (await sim.log()).filter(isWrite).map((r) => r.op),
      [],
    );
  });

  it("from a binding in the tree: asks only the vault and permissions, and opens Terraform for the binding's identity", async () => {
    const api = await extensionApi();
    const bindings = (await api.context.tree.getChildren((await findNode('aks-payments')) as ClusterNode)).filter(
      (n: TreeNode) => n.kind === 'binding',
    ) as BindingNode[];
    const binding = bindings.find((b) => b.binding.serviceAccount === 'payments-api')!;
    const prompter = new ScriptedPrompter([
      { pick: 'kv-payments' },
      { pickMany: ['get on secrets', 'get on keys'] },
      { pick: 'Terraform' },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.exportBinding', binding);
    assert.equal(prompter.remaining, 0);
    assert.deepEqual(
      prompter.recorded.map((r) => r.kind),
      ['pick', 'pickMany', 'pick'],
    );
    const tf = openText().find((t) => t.startsWith('# Terraform'))!;
    assert.match(
      tf,
      /data "azurerm_user_assigned_identity" "this" \{\n {2}provider {12}= azurerm.identity\n {2}name {16}= "id-payments-api"/,
    );
    assert.equal(tf.match(/resource "azurerm_role_assignment"/g)?.length, 2);
    assert.match(tf, /subject {13}= "system:serviceaccount:payments:payments-api"/);
  });

  it("from the palette: Bind's questions, then Bicep in two editors (main.bicep and its grant module)", async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'payments' },
      { type: 'orders-api' },
      { pick: 'kv-payments' },
      { pick: 'id-shared-tools' },
      { pickMany: ['get on secrets'] },
      { pick: 'Bicep' },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.exportBinding');
    assert.equal(prompter.remaining, 0);
    const main = openText().find((t) => t.includes("module grant 'grant.bicep'"))!;
    assert.match(
      main,
      /resource identity 'Microsoft\.ManagedIdentity\/userAssignedIdentities@[\d-]+' existing = \{\n {2}name: 'id-shared-tools'/,
    );
    const grant = openText().find((t) => t.includes('param principalId string'))!;
    assert.equal(grant.match(/Microsoft\.Authorization\/roleAssignments@/g)?.length, 1);
    assert.deepEqual(
      (await sim.log()).filter(isWrite).map((r) => r.op),
      [],
    );
  });
});

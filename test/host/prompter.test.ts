import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { VsCodePrompter } from '../../src/ui/vscodePrompter';
import type { PickItem } from '../../src/wizard/prompter';

/** The prompter over VS Code's own quick input, driven as a user drives it. */
describe("the prompter over VS Code's quick input (extension host)", () => {
  const later = <T>() => {
    let release!: (items: PickItem<T>[]) => void;
    const items = new Promise<PickItem<T>[]>((r) => (release = r));
    return { items, release };
  };
  const enter = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('Enter pressed while a multi-select list still loads is taken once it is there: the rows checked by default', async () => {
    const { items, release } = later<string>();
    const answer = new VsCodePrompter().pickMany({ title: 'Remove', placeholder: 'Also remove', items });
    await settle();
    await enter();
    release([
      { label: 'the ServiceAccount', value: 'sa' },
      { label: 'the manifest', value: 'manifest', picked: true },
    ]);
    assert.deepEqual(await answer, ['manifest']);
  });

  it('Enter pressed while a single pick still loads takes the row VS Code makes active, the first', async () => {
    const { items, release } = later<string>();
    const answer = new VsCodePrompter().pick({ title: 'Bind', placeholder: 'The Key Vault to read', items });
    await settle();
    await enter();
    release([
      { label: 'kv-payments', value: 'kv-payments' },
      { label: 'kv-petclinic', value: 'kv-petclinic' },
    ]);
    assert.equal(await answer, 'kv-payments');
  });
});

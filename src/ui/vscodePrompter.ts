import * as vscode from 'vscode';
import { BACK, Back, ConfirmOptions, InputOptions, PickItem, PickOptions, Prompter } from '../wizard/prompter';

type QpItem<T> = vscode.QuickPickItem & { value?: T; typedText?: string; invalid?: boolean };

/** Prompter over VS Code's QuickInput: step counter, Back button, inline validation that names the rule. */
export class VsCodePrompter implements Prompter {
  /**
   * The question last answered stays up, disabled and busy, until the next one replaces it or the flow is done
   * asking. Closing it between two questions would hand focus back to the editor, and a webview editor (the Verify
   * report) takes it again 50 ms later, by then from the next question: typing went into the report.
   */
  private answered?: vscode.QuickInput;

  doneAsking(): void {
    this.answered?.dispose();
    this.answered = undefined;
  }

  /** Shows a question in place of the one last answered (shown first, so the quick input never closes between them). */
  private showQuestion(q: vscode.QuickInput) {
    q.show();
    this.doneAsking();
  }

  /** Keeps an answered question up until the next one (see `answered`); one closed by the user just goes. */
  private keepAnswered(q: vscode.QuickInput, closed: boolean) {
    if (closed) return q.dispose();
    q.enabled = false;
    q.busy = true;
    this.answered = q;
  }

  pick<T>(opts: PickOptions<T>): Promise<T | Back | undefined> {
    return this.quickPick(opts, false) as Promise<T | Back | undefined>;
  }

  pickMany<T>(opts: PickOptions<T>): Promise<T[] | Back | undefined> {
    return this.quickPick(opts, true) as Promise<T[] | Back | undefined>;
  }

  private async quickPick<T>(opts: PickOptions<T>, many: boolean): Promise<T | T[] | Back | undefined> {
    const qp = vscode.window.createQuickPick<QpItem<T>>();
    qp.title = opts.title;
    qp.step = opts.step;
    qp.totalSteps = opts.totalSteps;
    qp.placeholder = opts.placeholder;
    qp.canSelectMany = many;
    qp.ignoreFocusOut = true;
    qp.matchOnDescription = true;
    qp.buttons = opts.step && opts.step > 1 ? [vscode.QuickInputButtons.Back] : [];
    qp.busy = true;
    this.showQuestion(qp);
    const toQp = (i: PickItem<T>): QpItem<T> => ({
      label: i.label,
      description: i.description,
      detail: i.detail,
      value: i.value,
      picked: i.picked,
    });
    let fixed: QpItem<T>[] = [];
    // Enter pressed while the list loads is kept, and taken once the list is there (it would otherwise be lost and
    // leave the question open). An object, as the listeners change it.
    const at = { ready: false, acceptedEarly: false, done: false };
    let resolveAnswer!: (v: T | T[] | Back | undefined) => void;
    const answer = new Promise<T | T[] | Back | undefined>((r) => (resolveAnswer = r));
    const finish = (v: T | T[] | Back | undefined, closed = false) => {
      if (at.done) return;
      at.done = true;
      this.keepAnswered(qp, closed);
      resolveAnswer(v);
    };
    // Replacing the items makes the first one active once the widget updates, even when the filter hides it:
    // the item Enter should take is made active after that update.
    const activate = (item: QpItem<T>) =>
      setTimeout(() => {
        if (!at.done && qp.items.includes(item)) qp.activeItems = [item];
      }, 0);
    const matching = (text: string) => {
      const t = text.toLowerCase();
      return fixed.find((i) => `${i.label} ${i.description ?? ''}`.toLowerCase().includes(t));
    };
    const accept = (early = false) => {
      if (many) {
        // Enter right after typing can come before the highlight is set: the row that matches is the answer then too.
        const checked = qp.selectedItems.length
          ? qp.selectedItems
          : opts.atLeastOne
            ? qp.activeItems.length
              ? qp.activeItems
              : [matching(qp.value)].filter((i) => i !== undefined)
            : [];
        if (opts.atLeastOne && !checked.length) return;
        return finish(checked.map((i) => i.value as T));
      }
      // A name typed exactly is the answer, whatever row the widget last reported active.
      const exact = opts.typed ? fixed.find((i) => i.label === qp.value) : undefined;
      // Taken from before the list arrived, the widget may not have reported its active row yet: the one it makes
      // active, the first that matches what is typed.
      const sel =
        exact ??
        qp.selectedItems[0] ??
        qp.activeItems[0] ??
        (early ? (qp.value ? matching(qp.value) : fixed[0]) : undefined);
      if (!sel || sel.invalid) return;
      if (sel.typedText !== undefined) {
        if (opts.typed!.validate(sel.typedText)) return;
        return finish(opts.typed!.toValue(sel.typedText));
      }
      finish(sel.value as T);
    };
    qp.onDidTriggerButton((b) => {
      if (b === vscode.QuickInputButtons.Back) finish(BACK);
    });
    qp.onDidAccept(() => {
      if (at.ready) accept();
      else at.acceptedEarly = true;
    });
    qp.onDidHide(() => finish(undefined, true));
    try {
      fixed = (await opts.items).map(toQp);
    } catch (e) {
      at.done = true;
      qp.dispose();
      throw e;
    }
    if (at.done) return answer;
    qp.items = fixed;
    if (many) qp.selectedItems = fixed.filter((i) => i.picked);
    qp.busy = false;
    const onValue = (text: string) => {
      if (!opts.typed || many) return;
      const exact = fixed.find((i) => i.label === text);
      if (!text || exact) {
        if (qp.items.length !== fixed.length) qp.items = fixed;
        if (exact) activate(exact);
        return;
      }
      // QuickPick has no validation message: the rule shows as an item that cannot be accepted.
      const error = opts.typed.validate(text);
      const typedItem: QpItem<T> = error
        ? { label: `$(error) ${error}`, invalid: true, alwaysShow: true }
        : { label: opts.typed.label(text), typedText: text, alwaysShow: true };
      qp.items = [typedItem, ...fixed];
      activate(typedItem);
    };
    qp.onDidChangeValue(onValue);
    // A multi-select list highlights nothing by itself: for a question that needs an answer, the row that matches
    // what is typed is highlighted as in a single pick, so Enter takes it.
    if (many && opts.atLeastOne) {
      const highlight = (text: string) => {
        const hit = matching(text);
        if (hit) activate(hit);
      };
      qp.onDidChangeValue(highlight);
      highlight(qp.value);
    }
    // Typed before the list arrived: the items just replaced made the first one active, even if the filter hides it.
    if (qp.value && !many) {
      if (opts.typed) onValue(qp.value);
      else {
        const hit = matching(qp.value);
        if (hit) activate(hit);
      }
    }
    at.ready = true;
    // After the activations above have landed.
    if (at.acceptedEarly) setTimeout(() => !at.done && accept(true), 0);
    return answer;
  }

  input(opts: InputOptions): Promise<string | Back | undefined> {
    const box = vscode.window.createInputBox();
    box.title = opts.title;
    box.step = opts.step;
    box.totalSteps = opts.totalSteps;
    box.prompt = opts.prompt;
    box.value = opts.value ?? '';
    box.ignoreFocusOut = true;
    box.buttons = opts.step && opts.step > 1 ? [vscode.QuickInputButtons.Back] : [];
    const check = (v: string) => {
      const error = opts.validate(v);
      box.validationMessage = error ? { message: error, severity: vscode.InputBoxValidationSeverity.Error } : undefined;
      return !error;
    };
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: string | Back | undefined, closed = false) => {
        if (done) return;
        done = true;
        this.keepAnswered(box, closed);
        resolve(v);
      };
      box.onDidChangeValue(check);
      box.onDidTriggerButton((b) => {
        if (b === vscode.QuickInputButtons.Back) finish(BACK);
      });
      box.onDidAccept(() => {
        if (check(box.value)) finish(box.value);
      });
      box.onDidHide(() => finish(undefined, true));
      this.showQuestion(box);
      // A prefilled value is checked at once; an empty one only once typed, so the prompt that says what to type
      // is not replaced by a complaint before the user has typed anything.
      if (box.value) check(box.value);
    });
  }

  async confirm(opts: ConfirmOptions): Promise<boolean> {
    this.doneAsking();
    const answer = await vscode.window.showWarningMessage(
      opts.message,
      { modal: true, detail: opts.detail },
      opts.confirm,
    );
    return answer === opts.confirm;
  }

  notify(kind: 'info' | 'warning' | 'error', message: string, ...actions: string[]): Promise<string | undefined> {
    this.doneAsking();
    const show =
      kind === 'info'
        ? vscode.window.showInformationMessage
        : kind === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showErrorMessage;
    return Promise.resolve(show(message, ...actions));
  }
}

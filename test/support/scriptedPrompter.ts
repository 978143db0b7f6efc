import { BACK, Back, ConfirmOptions, InputOptions, PickItem, PickOptions, Prompter } from '../../src/wizard/prompter';

/** One scripted answer: a function of the prompt, or a label to pick / text to type. */
export type Answer =
  | { pick: string | ((items: PickItem<any>[]) => PickItem<any> | undefined) }
  | { pickMany: string[] }
  | { type: string }
  | { input: string }
  | { confirm: boolean }
  | { back: true }
  | { dismiss: true };

export interface Recorded {
  kind: string;
  title?: string;
  message?: string;
  step?: number;
  totalSteps?: number;
  labels?: string[];
  /** pickMany: the items checked when the list opened. */
  picked?: string[];
  validation?: string;
}

/**
 * Answers prompts from a script, in order, and records every prompt and notification.
 * A prompt with no answer left fails the test instead of hanging.
 */
export class ScriptedPrompter implements Prompter {
  readonly recorded: Recorded[] = [];
  readonly notifications: { kind: string; message: string; actions: string[] }[] = [];
  private notifyAnswers: ((message: string, actions: string[]) => string | undefined)[] = [];

  constructor(private readonly answers: Answer[]) {}

  onNotify(fn: (message: string, actions: string[]) => string | undefined) {
    this.notifyAnswers.push(fn);
    return this;
  }

  /** Nothing stays up between scripted answers. */
  doneAsking() {}

  private next(kind: string, title?: string): Answer {
    const a = this.answers.shift();
    if (!a) throw new Error(`ScriptedPrompter: no answer left for ${kind} "${title ?? ''}"`);
    return a;
  }

  async pick<T>(opts: PickOptions<T>): Promise<T | Back | undefined> {
    const items = await opts.items;
    this.recorded.push({
      kind: 'pick',
      title: opts.title,
      step: opts.step,
      totalSteps: opts.totalSteps,
      labels: items.map((i) => i.label),
    });
    const a = this.next('pick', opts.title);
    if ('back' in a) return BACK;
    if ('dismiss' in a) return undefined;
    if ('type' in a) {
      if (!opts.typed) throw new Error(`ScriptedPrompter: "${opts.title}" does not take typed values`);
      const error = opts.typed.validate(a.type);
      if (error) {
        this.recorded.push({ kind: 'validation', title: opts.title, validation: error });
        throw new ValidationRejected(error);
      }
      return opts.typed.toValue(a.type);
    }
    if (!('pick' in a))
      throw new Error(`ScriptedPrompter: expected a pick answer for "${opts.title}", got ${JSON.stringify(a)}`);
    const found = typeof a.pick === 'function' ? a.pick(items) : items.find((i) => i.label === a.pick);
    if (!found)
      throw new Error(
        `ScriptedPrompter: "${String(a.pick)}" is not among ${items.map((i) => i.label).join(', ')} in "${opts.title}"`,
      );
    return found.value;
  }

  async pickMany<T>(opts: PickOptions<T>): Promise<T[] | Back | undefined> {
    const items = await opts.items;
    this.recorded.push({
      kind: 'pickMany',
      title: opts.title,
      step: opts.step,
      totalSteps: opts.totalSteps,
      labels: items.map((i) => i.label),
      picked: items.filter((i) => i.picked).map((i) => i.label),
    });
    const a = this.next('pickMany', opts.title);
    if ('back' in a) return BACK;
    if ('dismiss' in a) return undefined;
    // Enter on the highlighted row, with nothing checked.
    if (opts.atLeastOne && 'pick' in a) {
      this.answers.unshift(a);
      const one: T | Back | undefined = await this.pick<T>({ ...opts, items, atLeastOne: undefined });
      this.recorded.splice(-1, 1);
      if (one === BACK) return BACK;
      return one === undefined ? undefined : [one as T];
    }
    if (!('pickMany' in a)) throw new Error(`ScriptedPrompter: expected pickMany for "${opts.title}"`);
    return a.pickMany.map((l) => {
      const i = items.find((x) => x.label === l);
      if (!i) throw new Error(`ScriptedPrompter: "${l}" is not among ${items.map((x) => x.label).join(', ')}`);
      return i.value;
    });
  }

  async input(opts: InputOptions): Promise<string | Back | undefined> {
    this.recorded.push({ kind: 'input', title: opts.title, step: opts.step, totalSteps: opts.totalSteps });
    const a = this.next('input', opts.title);
    if ('back' in a) return BACK;
    if ('dismiss' in a) return undefined;
    if (!('input' in a)) throw new Error(`ScriptedPrompter: expected input for "${opts.title}"`);
    const error = opts.validate(a.input);
    if (error) {
      this.recorded.push({ kind: 'validation', title: opts.title, validation: error });
      throw new ValidationRejected(error);
    }
    return a.input;
  }

  async confirm(opts: ConfirmOptions): Promise<boolean> {
    this.recorded.push({ kind: 'confirm', message: opts.message + (opts.detail ? `\n${opts.detail}` : '') });
    const a = this.next('confirm', opts.message);
    if (!('confirm' in a)) throw new Error(`ScriptedPrompter: expected confirm for "${opts.message}"`);
    return a.confirm;
  }

  async notify(kind: 'info' | 'warning' | 'error', message: string, ...actions: string[]): Promise<string | undefined> {
    this.notifications.push({ kind, message, actions });
    for (const f of this.notifyAnswers) {
      const r = f(message, actions);
      if (r) return r;
    }
    return undefined;
  }

  get remaining() {
    return this.answers.length;
  }
}

/** A scripted value that the prompt's validation refused: the message names the rule. */
export class ValidationRejected extends Error {}

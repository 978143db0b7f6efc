import * as l10n from '@vscode/l10n';

/** A rule for typed input: the message that names the rule, or undefined when the value keeps it. */
export type Validator = (value: string) => string | undefined;

/** Returned by a prompt when the user pressed Back. */
export const BACK = Symbol('back');
export type Back = typeof BACK;

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
  picked?: boolean;
}

export interface StepInfo {
  title: string;
  step?: number;
  totalSteps?: number;
}

export interface PickOptions<T> extends StepInfo {
  placeholder: string;
  items: PickItem<T>[] | Promise<PickItem<T>[]>;
  /** Lets the user type a value that is not in the list; validated before it is accepted. */
  typed?: { validate: Validator; toValue(text: string): T; label(text: string): string };
  /** pickMany for a question that needs an answer: Enter with nothing checked takes the highlighted row. */
  atLeastOne?: boolean;
}

export interface InputOptions extends StepInfo {
  prompt: string;
  value?: string;
  validate: Validator;
}

export interface ConfirmOptions {
  message: string;
  detail?: string;
  confirm: string;
}

/**
 * Every question the extension asks goes through this. VS Code's QuickInput implements it in the UI;
 * tests pass scripted answers, so one command's code runs in unit, extension-host and e2e tests alike.
 */
export interface Prompter {
  pick<T>(opts: PickOptions<T>): Promise<T | Back | undefined>;
  pickMany<T>(opts: PickOptions<T>): Promise<T[] | Back | undefined>;
  input(opts: InputOptions): Promise<string | Back | undefined>;
  /**
   * The flow asked its last question (its review was accepted; its run starts). An answered question stays up,
   * busy, until the next one replaces it, so that focus stays in the questions; this closes it.
   */
  doneAsking(): void;
  /** A modal confirmation; false when dismissed. */
  confirm(opts: ConfirmOptions): Promise<boolean>;
  /** A notification with actions; resolves to the action chosen, if any. Does not block the flow when not awaited. */
  notify(kind: 'info' | 'warning' | 'error', message: string, ...actions: string[]): Promise<string | undefined>;
}

/** The user closed a prompt (Escape): the command ends without a message. */
export class PromptDismissed extends Error {
  constructor() {
    super(l10n.t('Dismissed.'));
    this.name = 'PromptDismissed';
  }
}

import { throwIfAborted } from '../errors';
import { BACK, Back, Prompter, PromptDismissed } from './prompter';

/**
 * A question. Steps that have nothing to ask (a value given by the context menu) say so in shouldPrompt. A step
 * that opens a branch (a sub-wizard) returns the steps of that branch: they run next, and Back past the step drops them.
 */
export interface PromptStep<C> {
  shouldPrompt(ctx: C): boolean;
  prompt(
    ctx: C,
    prompter: Prompter,
    position: { step: number; totalSteps: number },
  ): Promise<void | Back | PromptStep<C>[]>;
}

/** A unit of work. Lower priority runs first; steps of equal priority run at the same time. */
export interface ExecuteStep<C> {
  readonly id: string;
  readonly title: string;
  readonly priority: number;
  shouldExecute(ctx: C): boolean;
  execute(ctx: C, progress: (message: string) => void, signal: AbortSignal): Promise<void>;
}

/**
 * Runs the prompts in order with Back support, and the branches they open; throws PromptDismissed when the user
 * closes one.
 */
export async function runPrompts<C>(first: PromptStep<C>[], ctx: C, prompter: Prompter): Promise<void> {
  // Each step asked, with the list as it was before it: Back to it drops the branch it opened.
  const asked: { index: number; steps: PromptStep<C>[] }[] = [];
  let steps = first;
  let i = 0;
  for (let step = steps[i]; step; step = steps[i]) {
    if (!step.shouldPrompt(ctx)) {
      i++;
      continue;
    }
    // Steps asked so far plus those still to come; it grows when an answer reveals more (a new identity, a branch).
    const toCome = steps.slice(i).filter((s) => s.shouldPrompt(ctx)).length;
    const result = await step.prompt(ctx, prompter, { step: asked.length + 1, totalSteps: asked.length + toCome });
    if (result === BACK) {
      const prev = asked.pop();
      if (prev === undefined) continue;
      ({ index: i, steps } = prev);
      continue;
    }
    asked.push({ index: i, steps });
    if (result) steps = [...steps.slice(0, i + 1), ...result, ...steps.slice(i + 1)];
    i++;
  }
}

/** The answer of a prompt: throws when dismissed, passes Back through. */
export function answered<T>(value: T | Back | undefined): T | Back {
  if (value === undefined) throw new PromptDismissed();
  return value;
}

/**
 * Runs execute steps by priority; equal priorities run concurrently. A failure stops the run after the steps
 * running beside it have settled, so nothing goes on unreported.
 */
export async function runSteps<C>(
  steps: ExecuteStep<C>[],
  ctx: C,
  progress: (message: string) => void,
  signal: AbortSignal,
  onStep?: (step: ExecuteStep<C>, state: 'start' | 'done' | 'skipped') => void,
): Promise<void> {
  const byPriority = new Map<number, ExecuteStep<C>[]>();
  for (const s of steps) byPriority.set(s.priority, [...(byPriority.get(s.priority) ?? []), s]);
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    throwIfAborted(signal);
    const settled = await Promise.allSettled(
      byPriority.get(p)!.map(async (s) => {
        if (!s.shouldExecute(ctx)) {
          onStep?.(s, 'skipped');
          return;
        }
        onStep?.(s, 'start');
        await s.execute(ctx, progress, signal);
        onStep?.(s, 'done');
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

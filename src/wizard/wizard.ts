import { throwIfAborted } from '../errors';
import { BACK, Back, Prompter, PromptDismissed } from './prompter';

/** A question. Steps that have nothing to ask (a value given by the context menu) say so in shouldPrompt. */
export interface PromptStep<C> {
  shouldPrompt(ctx: C): boolean;
  prompt(ctx: C, prompter: Prompter, position: { step: number; totalSteps: number }): Promise<void | Back>;
}

/** A unit of work. Lower priority runs first; steps of equal priority run at the same time. */
export interface ExecuteStep<C> {
  readonly id: string;
  readonly title: string;
  readonly priority: number;
  shouldExecute(ctx: C): boolean;
  execute(ctx: C, progress: (message: string) => void, signal: AbortSignal): Promise<void>;
}

/** Runs the prompts in order with Back support; throws PromptDismissed when the user closes one. */
export async function runPrompts<C>(steps: PromptStep<C>[], ctx: C, prompter: Prompter): Promise<void> {
  const asked: number[] = [];
  let i = 0;
  for (let step = steps[i]; step; step = steps[i]) {
    if (!step.shouldPrompt(ctx)) {
      i++;
      continue;
    }
    // Steps asked so far plus those still to come; it grows when an answer reveals more (a new identity).
    const toCome = steps.slice(i).filter((s) => s.shouldPrompt(ctx)).length;
    const result = await step.prompt(ctx, prompter, { step: asked.length + 1, totalSteps: asked.length + toCome });
    if (result === BACK) {
      const prev = asked.pop();
      if (prev === undefined) continue;
      i = prev;
      continue;
    }
    asked.push(i);
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

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACK } from '../../src/wizard/prompter';
import { ExecuteStep, PromptStep, answered, runPrompts, runSteps } from '../../src/wizard/wizard';
import { ScriptedPrompter } from '../support/scriptedPrompter';

type Ctx = { a?: string; b?: string; c?: string; skipB?: boolean };
const ask = (key: 'a' | 'b' | 'c', when: (c: Ctx) => boolean = () => true): PromptStep<Ctx> => ({
  shouldPrompt: when,
  async prompt(ctx, p, pos) {
    const v = answered(await p.input({ title: key, ...pos, prompt: key, validate: () => undefined }));
    if (v === BACK) return BACK;
    ctx[key] = v;
  },
});

describe('wizard', () => {
  it('goes back to the previous question and keeps the step counter right', async () => {
    const p = new ScriptedPrompter([
      { input: 'a1' },
      { input: 'b1' },
      { back: true },
      { back: true },
      { input: 'a2' },
      { input: 'b2' },
      { input: 'c2' },
    ]);
    const ctx: Ctx = {};
    await runPrompts([ask('a'), ask('b'), ask('c')], ctx, p);
    assert.deepEqual(ctx, { a: 'a2', b: 'b2', c: 'c2' });
    assert.deepEqual(
      p.recorded.map((r) => `${r.title}${r.step}/${r.totalSteps}`),
      ['a1/3', 'b2/3', 'c3/3', 'b2/3', 'a1/3', 'b2/3', 'c3/3'],
    );
  });

  it('skips steps that have their answer, and Back skips them too', async () => {
    const p = new ScriptedPrompter([{ input: 'a1' }, { back: true }, { input: 'a2' }, { input: 'c' }]);
    const ctx: Ctx = { b: 'given' };
    await runPrompts([ask('a'), ask('b', (c) => !c.b), ask('c')], ctx, p);
    assert.deepEqual(ctx, { a: 'a2', b: 'given', c: 'c' });
  });

  it('a step that opens a branch runs its steps next, and Back past the step drops the branch', async () => {
    type Branching = { path?: string; answers: string[] };
    const leaf = (name: string): PromptStep<Branching> => ({
      shouldPrompt: () => true,
      async prompt(ctx, p, pos) {
        const v = answered(await p.input({ title: name, ...pos, prompt: name, validate: () => undefined }));
        if (v === BACK) return BACK;
        ctx.answers.push(`${name}=${v}`);
      },
    });
    const fork: PromptStep<Branching> = {
      shouldPrompt: () => true,
      async prompt(ctx, p, pos) {
        const v = answered(await p.input({ title: 'fork', ...pos, prompt: 'fork', validate: () => undefined }));
        if (v === BACK) return BACK;
        ctx.path = v;
        return v === 'left' ? [leaf('l1'), leaf('l2')] : [leaf('r1')];
      },
    };
    const p = new ScriptedPrompter([
      { input: 'left' },
      { input: 'x' },
      { back: true },
      { back: true },
      { input: 'right' },
      { input: 'y' },
      { input: 'z' },
    ]);
    const ctx: Branching = { answers: [] };
    await runPrompts([fork, leaf('end')], ctx, p);
    assert.equal(ctx.path, 'right');
    assert.deepEqual(ctx.answers, ['l1=x', 'r1=y', 'end=z']);
    assert.deepEqual(
      p.recorded.map((r) => `${r.title}${r.step}/${r.totalSteps}`),
      ['fork1/2', 'l12/4', 'l23/4', 'l12/4', 'fork1/2', 'r12/3', 'end3/3'],
    );
  });

  it('runs execute steps by priority, equal priorities together, and reports a failure after the others settle', async () => {
    const order: string[] = [];
    const step = (id: string, priority: number, ms: number, fail = false): ExecuteStep<object> => ({
      id,
      title: id,
      priority,
      shouldExecute: () => true,
      async execute() {
        order.push(`start ${id}`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`end ${id}`);
        if (fail) throw new Error(id);
      },
    });
    await assert.rejects(
      runSteps(
        [step('x', 1, 30), step('y', 1, 10, true), step('z', 2, 1)],
        {},
        () => undefined,
        new AbortController().signal,
      ),
      /y/,
    );
    assert.deepEqual(
      order,
      ['start x', 'start y', 'end y', 'end x'],
      'x finished before the failure surfaced; z never started',
    );
  });
});

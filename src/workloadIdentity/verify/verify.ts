import { evaluate } from './checks';
import { VerifyDeps, VerifyFacts, VerifyReport, VerifyTarget } from './model';
import { observe } from './observe';

/** Reads, then checks. Sends no write. */
export async function verifyBinding(target: VerifyTarget, deps: VerifyDeps, signal?: AbortSignal): Promise<{ report: VerifyReport; facts: VerifyFacts }> {
  const facts = await observe(target, deps, signal);
  const identity = facts.identity.ok ? facts.identity.value.identity : undefined;
  return { facts, report: { target, checkedAt: new Date().toISOString(), checks: evaluate(facts), ...(identity ? { identity } : {}) } };
}

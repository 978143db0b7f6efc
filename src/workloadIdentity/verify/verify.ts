import * as l10n from '@vscode/l10n';
import { evaluate } from './checks';
import { CheckResult } from './model';
import { VerifyDeps, VerifyFacts, VerifyReport } from './model';
import { observe } from './observe';
import type { Binding } from '../binding';

/** Reads, then checks. Sends no write. */
export async function verifyBinding(
  target: Binding,
  deps: VerifyDeps,
  signal?: AbortSignal,
): Promise<{ report: VerifyReport; facts: VerifyFacts }> {
  const facts = await observe(target, deps, signal);
  const identity = facts.identity.ok ? facts.identity.value.identity : undefined;
  const checks = evaluate(facts);
  return {
    facts,
    report: {
      target,
      checkedAt: new Date().toISOString(),
      checks,
      notes: notesFor(checks),
      ...(identity ? { identity } : {}),
    },
  };
}

export const propagationNote = () =>
  l10n.t(
    'The federated credential checks pass. If a pod still gets AADSTS70021 within minutes of creating or changing the credential, Entra ID is still propagating it: wait a few minutes and retry; nothing needs fixing.',
  );

/** A credential that is right can still be refused for a few minutes after it was written. */
function notesFor(checks: CheckResult[]): string[] {
  const ok = (id: string) => checks.find((c) => c.key === id)?.status === 'pass';
  return ok('issuer') && ok('subject') && ok('audience') ? [propagationNote()] : [];
}

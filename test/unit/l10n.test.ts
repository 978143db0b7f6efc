import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../support/paths';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const nls: Record<string, string> = JSON.parse(fs.readFileSync(path.join(REPO, 'package.nls.json'), 'utf8'));

/** Every string a user reads in the contributions, with where it is. */
function userFacing(): [string, string][] {
  const c = pkg.contributes;
  const out: [string, string][] = [
    ['displayName', pkg.displayName],
    ['description', pkg.description],
    ['untrusted workspaces', pkg.capabilities.untrustedWorkspaces.description],
  ];
  for (const vc of Object.values<any[]>(c.viewsContainers))
    for (const v of vc) out.push([`viewsContainer ${v.id}`, v.title]);
  for (const vs of Object.values<any[]>(c.views)) for (const v of vs) out.push([`view ${v.id}`, v.name]);
  for (const w of c.viewsWelcome) out.push([`viewsWelcome ${w.view}`, w.contents]);
  for (const cmd of c.commands) {
    out.push([`command ${cmd.command}`, cmd.title]);
    out.push([`category of ${cmd.command}`, cmd.category]);
  }
  out.push(['configuration title', c.configuration.title]);
  for (const [k, v] of Object.entries<any>(c.configuration.properties)) {
    for (const f of ['description', 'markdownDescription', 'deprecationMessage', 'markdownDeprecationMessage'])
      if (v[f] !== undefined) out.push([`${k} ${f}`, v[f]]);
    for (const f of ['enumDescriptions', 'markdownEnumDescriptions'])
      for (const e of v[f] ?? []) out.push([`${k} ${f}`, e]);
  }
  for (const w of c.walkthroughs) {
    out.push([`walkthrough ${w.id}`, w.title], [`walkthrough ${w.id} description`, w.description]);
    for (const s of w.steps)
      out.push([`walkthrough step ${s.id}`, s.title], [`walkthrough step ${s.id} description`, s.description]);
  }
  return out;
}

describe('localizable contributions (package.nls.json)', () => {
  it('every string a user reads in package.json is a %key% that package.nls.json defines', () => {
    const literal = userFacing().filter(([, v]) => !/^%[\w.-]+%$/.test(v));
    assert.deepEqual(literal, [], 'literal strings left in package.json');
    const missing = userFacing()
      .map(([, v]) => v.slice(1, -1))
      .filter((k) => !(k in nls));
    assert.deepEqual(missing, []);
  });

  it('package.nls.json has no key nothing uses, and its command links name contributed commands', () => {
    const used = new Set(userFacing().map(([, v]) => v.slice(1, -1)));
    assert.deepEqual(
      Object.keys(nls).filter((k) => !used.has(k)),
      [],
    );
    const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
    const linked = Object.values(nls).flatMap((v) => [...v.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]));
    assert.deepEqual(
      linked.filter((c) => c.startsWith('aksWorkloadIdentity.') && !commands.has(c)),
      [],
    );
  });

  it("the walkthrough's steps complete from context keys the extension sets, and each has its page in media/", () => {
    const src = fs.readFileSync(path.join(REPO, 'src', 'ui', 'walkthrough.ts'), 'utf8');
    for (const s of pkg.contributes.walkthroughs[0].steps) {
      assert.ok(fs.existsSync(path.join(REPO, s.media.markdown)), s.media.markdown);
      for (const e of s.completionEvents) {
        const key = /^onContext:(.+)$/.exec(e)?.[1];
        assert.ok(key, `${s.id} completes from a context key, not a click: ${e}`);
        assert.ok(key === 'aksWorkloadIdentity.signedIn' || src.includes(`'${key}'`), `${key} is set by the extension`);
      }
    }
  });
});

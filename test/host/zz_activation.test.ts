import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extensionApi } from './support';

describe('activation (extension host)', () => {
  it('activates without loading the Azure SDKs, and records how long activate() took', async () => {
    const api = await extensionApi();
    assert.ok(api.activationMs > 0);
    const out = process.env.AKSWI_ACTIVATION_OUT;
    if (out) fs.writeFileSync(out, JSON.stringify({ activationMs: api.activationMs }));
    assert.ok(path.basename(__filename));
  });
});

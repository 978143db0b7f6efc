/**
 * Test-only name resolution: `*.vault.sim.test` is 127.0.0.1, where the simulated Key Vault answers. Loaded with
 * `--require` into the processes that talk to the simulator, so the product's Key Vault clients keep their check
 * that a challenge's resource is a parent domain of the vault (they refuse a bare 127.0.0.1).
 */
import dns from 'node:dns';

const SIM_DOMAIN = /\.vault\.sim\.test\.?$/i;
const original = dns.lookup;
// Loaded twice where both NODE_OPTIONS and the command line carry it (code-server 4.100's extension host).
const LOADED = Symbol.for('aksWorkloadIdentity.simResolve');

if (!(dns as any)[LOADED])
  (dns as any)[LOADED] = (dns as any).lookup = function lookup(hostname: string, options: any, callback?: any) {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    if (typeof options === 'number') options = { family: options };
    if (!SIM_DOMAIN.test(String(hostname))) return (original as any).call(dns, hostname, options, callback);
    const all = options?.all;
    process.nextTick(() =>
      all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
    );
    return {};
  };

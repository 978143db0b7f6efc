import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SimTls {
  caPath: string;
  ca: string;
  key: string;
  cert: string;
}

/**
 * A CA made for this run, and a server certificate for 127.0.0.1/localhost signed by it.
 * Clients trust it through NODE_EXTRA_CA_CERTS=caPath. These are throwaway test keys.
 */
export function createSimTls(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-ca-'))): SimTls {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=AKS Workload Identity simulated Azure CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(
    path.join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.vault.sim.test,DNS:ib-proxy.sim.test\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  fs.rmSync(path.join(dir, 'ca.key'));
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { caPath: path.join(dir, 'ca.pem'), ca: read('ca.pem'), key: read('server.key'), cert: read('server.pem') };
}

/**
 * The run's CA: the test runner makes it once, before any Node process that must trust it starts,
 * and passes its folder as AKSWI_SIM_TLS_DIR (and its ca.pem as NODE_EXTRA_CA_CERTS).
 */
export function runTls(): SimTls {
  const dir = process.env.AKSWI_SIM_TLS_DIR;
  if (!dir) return createSimTls();
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { caPath: path.join(dir, 'ca.pem'), ca: read('ca.pem'), key: read('server.key'), cert: read('server.pem') };
}

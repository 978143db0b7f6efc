import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
export const CODE_SERVER_VERSION = '4.100.3';
export const CACHE_DIR =
  process.env.AKSWI_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'aks-workload-identity');
export const CODE_SERVER =
  process.env.AKSWI_CODE_SERVER ??
  path.join(CACHE_DIR, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server');
/** The Node that runs it: newer code-server needs Node 24, installed beside it (scripts/lib.sh), never as the system's. */
export const CODE_SERVER_NODE = process.env.AKSWI_CODE_SERVER_NODE ?? process.execPath;
export const AZ_STAND_IN_DIR = path.join(REPO, 'test', 'sim', 'bin');
export const RESULTS_DIR = path.join(REPO, 'test-results');

import { seedStandardWithBudgets } from '../sim/seed';
import type { SimOptions } from '../sim/server';

/** The demo's simulated Azure: new credentials and role assignments take a while, as in Azure, so Test Binding shows the wait. */
export const DEMO_SIM_OPTIONS: SimOptions = {
  seed: seedStandardWithBudgets,
  config: {
    clusterUpdateMs: 8000,
    pollRetryAfterSeconds: 2,
    runCommandMs: 1500,
    credentialPropagationMs: 15_000,
    roleAssignmentPropagationMs: 15_000,
  },
};

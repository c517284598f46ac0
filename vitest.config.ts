import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{attestation,enclave,host,policies,client,protocol,scripts,testing}/**/*.test.ts'],
    // End-to-end suites start real processes and sockets; give them room without sleeping.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI machines have two cores.
    maxWorkers: 2,
    // In CI a JSON report as well, from which .ci/run prints the plain `N passed, N failed` line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: 'test-results/vitest.json' } : undefined,
  },
});

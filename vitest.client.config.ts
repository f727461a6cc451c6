import { defineConfig } from "vitest/config";

// The client suite (`npm test -- client`): the real @supabase/supabase-js against the local stack (stack/), which
// tests/client/support/global-setup.ts starts in-process on a freshly migrated database.
export default defineConfig({
  test: {
    include: ["tests/client/**/*.test.ts"],
    globalSetup: ["tests/client/support/global-setup.ts"],
    setupFiles: ["tests/client/support/setup.ts"],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from "vitest/config";

// The reliability suites (`npm test -- reliability`, `npm run soak`): one file at a time, they load the database.
export default defineConfig({
  test: {
    include: ["tests/reliability/**/*.test.ts"],
    exclude: ["tests/reliability/functions/**"],
    fileParallelism: false,
    testTimeout: process.env.RELIABILITY_SCALE === "soak" ? 900_000 : 120_000,
    hookTimeout: 120_000,
  },
});

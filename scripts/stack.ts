// The local backend: `npm start`, `npm stop`, `npm run status`, `npm run db:reset`.
// With a Docker engine it is the ordinary Supabase CLI stack; without one it is the Docker-free stack: PostgreSQL 15
// with the platform stand-in, our migrations applied by the Supabase CLI, edge functions on Deno, and clamd.
import { spawnSync } from "node:child_process";
import { BIN, runInherit } from "./lib/util.ts";
import { LocalStack } from "./lib/local-stack.ts";

function dockerAvailable(): boolean {
  if (process.env.SUPABASE_CHAT_NO_DOCKER === "1") return false;
  const r = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore", timeout: 10_000 });
  return r.status === 0;
}

async function docker(command: string): Promise<number> {
  const cli = `${BIN}/supabase`;
  switch (command) {
    case "start": {
      const code = await runInherit(cli, ["start"]);
      return code === 0 ? runInherit(cli, ["db", "reset"]) : code;
    }
    case "stop":
      return runInherit(cli, ["stop"]);
    case "status":
      return runInherit(cli, ["status", "-o", "env"]);
    case "reset":
      return runInherit(cli, ["db", "reset"]);
    default:
      throw new Error(`unknown command ${command}`);
  }
}

async function main(): Promise<number> {
  const command = process.argv[2] ?? "status";
  if (!["start", "stop", "status", "reset"].includes(command)) {
    console.error("usage: stack.ts start|stop|status|reset");
    return 2;
  }
  if (dockerAvailable()) return docker(command);
  const stack = new LocalStack();
  switch (command) {
    case "start":
      await stack.start();
      console.log("\nsupabase-chat is running (Docker-free stack). Environment:\n");
      console.log(stack.statusEnv());
      return 0;
    case "stop":
      stack.stop();
      return 0;
    case "status": {
      if (!stack.isRunning()) {
        console.error("the local stack is not running (npm start)");
        console.log(stack.statusEnv());
        return 1;
      }
      console.log(stack.statusEnv());
      return 0;
    }
    case "reset":
      await stack.reset();
      return 0;
  }
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

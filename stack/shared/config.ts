// supabase/config.toml, read once by the stack: each service takes its own section ([api], [auth], [storage], ...)
// and validates what it uses. Sizes such as "50MiB" and durations such as "60s" are parsed here the way the
// Supabase CLI parses them (supabase/cli:pkg/config), so every service agrees on them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";

export type TomlTable = Record<string, unknown>;

export interface ProjectConfig {
  /** Absolute path of config.toml. */
  file: string;
  /** The directory holding config.toml (supabase/); relative paths in the file are relative to its parent. */
  dir: string;
  raw: TomlTable;
  api: { schemas: string[]; extraSearchPath: string[]; maxRows: number | undefined };
}

function table(value: unknown): TomlTable {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as TomlTable) : {};
}

function strings(value: unknown, fallback: string[]): string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : fallback;
}

export function loadProjectConfig(file: string): ProjectConfig {
  const raw = parseToml(readFileSync(file, "utf8")) as TomlTable;
  const api = table(raw.api);
  return {
    file: path.resolve(file),
    dir: path.dirname(path.resolve(file)),
    raw,
    api: {
      // The CLI's defaults (supabase/cli:pkg/config/templates/config.toml).
      schemas: strings(api.schemas, ["public", "graphql_public"]),
      extraSearchPath: strings(api.extra_search_path, ["public", "extensions"]),
      maxRows: typeof api.max_rows === "number" ? api.max_rows : 1000,
    },
  };
}

/** A section of the config by dotted path (`auth.email`), {} when absent. */
export function section(config: ProjectConfig, dotted: string): TomlTable {
  let current: unknown = config.raw;
  for (const key of dotted.split(".")) current = table(current)[key];
  return table(current);
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** "50MiB", "2MB", "1024" or a number of bytes. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) throw new Error(`invalid size ${JSON.stringify(value)}`);
  const unit = SIZE_UNITS[(match[2] || "b").toLowerCase()];
  if (unit === undefined) throw new Error(`invalid size unit in ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Go-style durations as the CLI writes them ("60s", "1h30m", "500ms") in seconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  let total = 0;
  let rest = value.trim();
  if (rest === "") throw new Error("empty duration");
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!match) throw new Error(`invalid duration ${JSON.stringify(value)}`);
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

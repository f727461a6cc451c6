// The RGI emoji list a reaction is checked against is generated data (scripts/rgi-emoji.ts): the committed migration
// must be what the pinned source package gives, and the migrated table must hold exactly that list.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { RGI_MIGRATION, renderRgiMigration, rgiEmoji, rgiSource } from "../../scripts/lib/rgi-emoji.ts";
import { sql } from "./support/db.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
afterAll(() => sql.end());

describe("the RGI emoji list", () => {
  it("is the committed migration, regenerated from the source package (run `npx tsx scripts/rgi-emoji.ts` when this fails)", () => {
    expect(renderRgiMigration()).toBe(readFileSync(path.join(root, RGI_MIGRATION), "utf8"));
  });

  it("is Emoji 17.0, fully qualified, without components", () => {
    const list = rgiEmoji().map((e) => e.emoji);
    expect(rgiSource().emojiVersion).toBe("17.0");
    expect(list).toContain("👍🏽");
    expect(list).toContain("👨‍👩‍👧‍👦");
    expect(list).toContain("1️⃣");
    expect(list).toContain("🇺🇦");
    expect(list).not.toContain("1⃣"); // the unqualified keycap
    expect(list).not.toContain("🏽"); // a skin-tone modifier alone is a component
    expect(new Set(list).size).toBe(list.length);
  });

  it("is what the migrated table holds", async () => {
    const rows = await sql<{ emoji: string }[]>`select emoji from private.rgi_emoji`;
    expect(new Set(rows.map((r) => r.emoji))).toEqual(new Set(rgiEmoji().map((e) => e.emoji)));
  });
});

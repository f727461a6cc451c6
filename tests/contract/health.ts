// Typed supabase-js calls against the generated Database type (compiled by `tsc`, never run).
import { createClient } from "@supabase/supabase-js";
import type { Database } from "../../types/database.ts";

const supabase = createClient<Database>("http://127.0.0.1:54321", "anon-key");

export async function health(): Promise<string> {
  const { data, error } = await supabase.functions.invoke<{ status: string; database: { version: string } }>("health", {
    method: "GET",
  });
  if (error) throw error;
  return data?.database.version ?? "";
}

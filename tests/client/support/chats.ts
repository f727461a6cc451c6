// Chat fixtures for client tests, made with the project's own RPCs in the request context PostgREST gives a signed-in
// user (stack/shared/request-context.ts), on the suite's superuser connection.
import { inRequest, userClaims } from "../../../stack/shared/request-context.ts";
import { db, type SignedInUser } from "./users.ts";

/** A group chat owned by `owner` with `members`; returns its id. */
export async function groupChat(owner: SignedInUser, members: SignedInUser[] = [], title = "Files"): Promise<string> {
  const rows = await inRequest(db(), userClaims(owner.id, owner.email), (tx) =>
    tx<{ id: string }[]>`select id from public.create_group_chat(${title}, ${members.map((m) => m.id)}::uuid[])`);
  return rows[0]!.id;
}

-- Cheaper membership checks in the two most-read policies; who may read what is unchanged.
-- Both compared a chat id with the caller's array of chat ids (private.my_chat_ids()), a linear scan of that array
-- for every row: for a user in 1,000 chats, every message, member and chat row read cost up to 1,000 comparisons,
-- and the array was built even when the row was the caller's own.
-- * chat_members: the caller's own membership rows pass on user_id alone; others' rows still need a shared chat.
--   The messages policy probes the caller's own row, so a history page no longer builds the array at all.
-- * chats: one index probe of the caller's membership row (chat_members primary key) instead of the array scan.
-- Measured on the bench cluster (preset large, hub user in 1,000 chats, one client, request context, p50):
-- history page 1.36 -> 0.66 ms (service_role 0.41), chats read 6.7 -> 5.2 ms (service_role 3.0), a 1,000-member
-- chat's member list 1.45 -> 1.34 ms (service_role 1.33).

alter policy "members can read the members of their chats" on public.chat_members
  using (user_id = (select auth.uid()) or chat_id = any (coalesce((select private.my_chat_ids()), '{}'::uuid[])));

alter policy "members can read their chats and anyone signed in can read disc" on public.chats
  using (exists (select 1 from public.chat_members m where m.chat_id = chats.id and m.user_id = (select auth.uid()))
         or (discoverable and kind <> 'direct'));

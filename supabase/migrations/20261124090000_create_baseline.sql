-- Baseline: the security defaults and shared helpers every later migration relies on.
-- * Functions are not executable by API roles unless a migration grants it explicitly (PostgreSQL grants EXECUTE
--   to PUBLIC by default and Supabase adds anon/authenticated; both are revoked here). Every function in these
--   migrations is followed by its own `revoke` and `grant execute`.
-- * Schema `private` holds helpers, rate-limit state and internals; it is never exposed through the API (it is not in
--   the API's schemas). `authenticated` has USAGE only so that RLS policies can call the few helpers granted to it;
--   no table in it is granted to API roles.
-- * Extensions live in schema `extensions`, not `public`.
-- * Helpers on hot paths are PL/pgSQL, not LANGUAGE sql. A LANGUAGE sql function that cannot be inlined (ours never
--   can: they set search_path, most are security definer) is planned again every time the statement calling it
--   runs; PL/pgSQL keeps its plans for the session. Measured on the bench cluster (preset large, one client,
--   track_functions = all) when they were LANGUAGE sql: message_json 0.185 ms per send, profile_json 0.042 ms,
--   realtime_setting 0.037 ms, is_blocked_between 0.062 ms, most of it planning (message_json in PL/pgSQL: 0.054 ms).
-- Release rule: until a migration is named in supabase/migrations/RELEASED, an object is changed where it is defined
-- (each object is created once, in its domain's file); after that, fix forward with a new migration that says what it
-- replaces. scripts/check-migrations.ts enforces it.

-- ---------------------------------------------------------------------------------------------------------------
-- default privileges
-- ---------------------------------------------------------------------------------------------------------------
alter default privileges for role postgres revoke execute on functions from public;
alter default privileges for role postgres in schema public revoke execute on functions from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- schemas
-- ---------------------------------------------------------------------------------------------------------------
create schema if not exists private;
comment on schema private is 'Internal helpers and state of supabase-chat; never exposed through the Data API.';
revoke all on schema private from public, anon, authenticated;
grant usage on schema private to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- extensions
-- ---------------------------------------------------------------------------------------------------------------
create extension if not exists pg_trgm with schema extensions;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
-- An account that is anonymous or has neither a confirmed email nor a confirmed phone (or does not exist).
-- PL/pgSQL rather than SQL: its plan is cached for the session (a non-inlined SQL function is planned on every
-- call, which made the guard several times slower).
create function private.is_guest_account(account uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return not exists (select 1 from auth.users u
                      where u.id = account and not u.is_anonymous
                        and coalesce(u.email_confirmed_at, u.phone_confirmed_at) is not null);
end
$$;
comment on function private.is_guest_account(uuid) is 'True for an anonymous or unconfirmed account (private.is_guest).';
revoke all on function private.is_guest_account(uuid) from public, anon, authenticated;

-- Guests (docs/security.md, "Guests and unconfirmed users"): a signed-in user whose access token says
-- is_anonymous (GoTrue's anonymous sign-in, if an operator turns it on), or whose account is anonymous or has neither
-- a confirmed email nor a confirmed phone. A guest may read discoverable channels (join, read, leave) and their own
-- lists, and nothing else: every other RPC and every client write refuses them. The account row is the truth (a
-- guest who confirms an email stops being one at once); the claim makes a stale anonymous token count as a guest.
create function private.is_guest() returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    return false;
  end if;
  -- auth.jwt() ->> 'is_anonymous', and private.is_guest_account(me), written out: this runs on every write.
  if coalesce((coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                        nullif(current_setting('request.jwt.claims', true), ''))::jsonb ->> 'is_anonymous')::boolean, false) then
    return true;
  end if;
  return not exists (select 1 from auth.users u
                      where u.id = me and not u.is_anonymous
                        and coalesce(u.email_confirmed_at, u.phone_confirmed_at) is not null);
end
$$;
comment on function private.is_guest() is
  'True for an anonymous user or one without a confirmed email or phone (who may only read discoverable channels).';
revoke all on function private.is_guest() from public, anon, authenticated;
-- Policies call it as the caller (restrictive policies on profiles, user_blocks and storage.objects).
grant execute on function private.is_guest() to authenticated, service_role;

-- The signed-in user's id, or 42501 "not signed in" (anon and the service role have no user). For what guests may
-- do too: reading the discoverable channels they joined and their own lists.
create function private.require_signed_in() returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    raise exception 'not signed in' using errcode = '42501', hint = 'Sign in first.';
  end if;
  return me;
end
$$;
revoke all on function private.require_signed_in() from public, anon, authenticated;
grant execute on function private.require_signed_in() to service_role;

-- The signed-in user's id for everything that writes or reaches other users: 42501 "not signed in" for anon and the
-- service role, 42501 "guest accounts can only read channels" for guests (private.is_guest).
create function private.require_user() returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  me uuid := private.require_signed_in();
begin
  if private.is_guest() then
    raise exception 'guest accounts can only read channels' using errcode = '42501',
      hint = 'Sign up with an email address and confirm it (or link one to this anonymous account) to chat.';
  end if;
  return me;
end
$$;
revoke all on function private.require_user() from public, anon, authenticated;
-- Not granted to authenticated: only definer functions call it, as their owner (least privilege, docs/security.md).
grant execute on function private.require_user() to service_role;

-- Is the signed-in caller suspended app-wide? Reads public.user_suspensions (created by the moderation migration;
-- PL/pgSQL resolves it when called). For the policies on direct writes (own profile, avatars, uploads, typing),
-- which run as the caller; write RPCs call private.assert_can_write() (moderation migration) instead.
create function private.is_suspended() returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from public.user_suspensions s
                  where s.user_id = auth.uid() and (s.suspended_until is null or s.suspended_until > now()));
end
$$;
comment on function private.is_suspended() is 'Whether the caller is suspended app-wide (reads, but does not write).';
revoke all on function private.is_suspended() from public, anon, authenticated;
grant execute on function private.is_suspended() to authenticated, service_role;

create function private.assert_text(value text, what text, max_length integer, required boolean default false)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := nullif(btrim(value), '');
begin
  if v is null and required then
    raise exception '% is required', what using errcode = '22023', hint = format('Give a %s.', what);
  end if;
  if char_length(v) > max_length then
    raise exception '% is too long', what using errcode = '22023',
      hint = format('At most %s characters.', max_length);
  end if;
  return v;
end
$$;
revoke all on function private.assert_text(text, text, integer, boolean) from public, anon, authenticated;

-- A one-line name (chat title, display name): assert_text, and no character that makes the text lie about itself —
-- C0/C1 control characters (tabs and line breaks included), U+2028/U+2029 line and paragraph separators, and the
-- bidirectional formatting characters (marks U+200E/U+200F/U+061C, embeddings and overrides U+202A-U+202E, isolates
-- U+2066-U+2069) that reorder what is shown around them. Right-to-left letters themselves are fine.
create function private.name_forbidden_pattern() returns text
language sql
immutable
set search_path = ''
as $$ select '[\u0001-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]'::text $$;
comment on function private.name_forbidden_pattern() is
  'The characters a one-line name may not contain (control, line breaks, bidi formatting), as a regular expression.';
revoke all on function private.name_forbidden_pattern() from public, anon, authenticated;

create function private.assert_name(value text, what text, max_length integer, required boolean default false)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := private.assert_text(value, what, max_length, required);
begin
  if v ~ private.name_forbidden_pattern() then
    raise exception '% has control or formatting characters', what using errcode = '22023',
      hint = 'Use one line of text: no line breaks, tabs, control characters or bidirectional formatting characters.';
  end if;
  return v;
end
$$;
comment on function private.assert_name(text, text, integer, boolean) is
  'assert_text for one-line names and titles: refuses control characters, line breaks and bidi formatting characters.';
revoke all on function private.assert_name(text, text, integer, boolean) from public, anon, authenticated;

-- Multi-line text (message bodies, chat descriptions, bios) keeps right-to-left letters and the bidi marks
-- (U+200E, U+200F, U+061C), but every embedding, override or isolate it opens must be closed by its own terminator
-- before the paragraph ends, innermost first: LRE/RLE/LRO/RLO (U+202A, U+202B, U+202D, U+202E) by PDF (U+202C),
-- LRI/RLI/FSI (U+2066-U+2068) by PDI (U+2069). An unclosed one reorders everything after it up to the paragraph's
-- end (a quoted reply, a file name, a link); a stray terminator closes what the client put around the text.
-- Text without any of these characters is answered by the regular expression alone.
create function private.bidi_unbalanced(value text) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  open_stack text := '';  -- one letter per open formatting character: e (embedding/override) or i (isolate)
  ch text;
begin
  if value is null or value !~ '[\u202a-\u202e\u2066-\u2069]' then
    return false;
  end if;
  foreach ch in array regexp_split_to_array(value, '') loop
    if ch in (U&'\202A', U&'\202B', U&'\202D', U&'\202E') then
      open_stack := open_stack || 'e';
    elsif ch in (U&'\2066', U&'\2067', U&'\2068') then
      open_stack := open_stack || 'i';
    elsif ch = U&'\202C' then
      if right(open_stack, 1) is distinct from 'e' or open_stack = '' then
        return true;
      end if;
      open_stack := left(open_stack, -1);
    elsif ch = U&'\2069' then
      if right(open_stack, 1) is distinct from 'i' or open_stack = '' then
        return true;
      end if;
      open_stack := left(open_stack, -1);
    elsif ch in (E'\n', E'\r', U&'\001C', U&'\001D', U&'\001E', U&'\0085', U&'\2029') then
      -- A paragraph separator (bidi class B) ends every embedding and isolate.
      if open_stack <> '' then
        return true;
      end if;
    end if;
  end loop;
  return open_stack <> '';
end
$$;
comment on function private.bidi_unbalanced(text) is
  'True when the text opens a bidi embedding, override or isolate it does not close in the same paragraph, or closes one it did not open.';
revoke all on function private.bidi_unbalanced(text) from public, anon, authenticated;

-- assert_text for multi-line text: refuses unbalanced bidi formatting (private.bidi_unbalanced), 22023.
create function private.assert_body(value text, what text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if private.bidi_unbalanced(value) then
    raise exception '% has unbalanced bidirectional formatting', what using errcode = '22023',
      hint = 'Close each embedding, override or isolate (U+202A-U+202E, U+2066-U+2068) with its own terminator (U+202C, U+2069) in the same paragraph, or leave them out; right-to-left text needs none of them.';
  end if;
  return value;
end
$$;
comment on function private.assert_body(text, text) is
  'Returns the text, or raises 22023 when its bidirectional formatting is unbalanced.';
revoke all on function private.assert_body(text, text) from public, anon, authenticated;

-- An image a client points at (a chat's avatar, a custom emoji), validated like the profile avatar: a path in the
-- avatars bucket, `<user id>/<file name>`, in the folder of the user who sets it (the only folder they may upload
-- to), with a one-line file name. Null or blank stays null.
create function private.assert_image_path(value text, owner uuid, what text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := nullif(btrim(value), '');
begin
  if v is null then
    return null;
  end if;
  if v !~ '^[0-9a-f-]{36}/[^/\\]{1,200}$' or v ~ private.name_forbidden_pattern() or split_part(v, '/', 2) in ('.', '..') then
    raise exception 'invalid %', what using errcode = '22023',
      hint = 'Upload the image to the avatars bucket as <your user id>/<file name> and pass that path.';
  end if;
  if owner is null or split_part(v, '/', 1) <> owner::text then
    raise exception '% must be in your own folder of the avatars bucket', what using errcode = '22023',
      hint = 'Upload to avatars/<your user id>/<file name>.';
  end if;
  return v;
end
$$;
comment on function private.assert_image_path(text, uuid, text) is
  'An avatars-bucket path <owner id>/<file name> in the given user''s folder, or 22023.';
revoke all on function private.assert_image_path(text, uuid, text) from public, anon, authenticated;

-- A "contains" pattern for ILIKE with the user's %, _ and \ taken literally.
create function private.like_pattern(term text) returns text
language sql
immutable
set search_path = ''
as $$
  select '%' || replace(replace(replace(btrim(term), '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;
revoke all on function private.like_pattern(text) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- trigger helpers
-- ---------------------------------------------------------------------------------------------------------------
create function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
comment on function private.touch_updated_at() is 'BEFORE UPDATE trigger: stamps updated_at.';
revoke all on function private.touch_updated_at() from public, anon, authenticated;

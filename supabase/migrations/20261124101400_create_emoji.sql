-- Emoji a reaction may be: one emoji of Unicode's RGI list, or a custom emoji the chat defines.
-- * private.rgi_emoji holds every fully-qualified emoji of Unicode's emoji-test.txt (the RGI set); its rows are
--   generated data (scripts/rgi-emoji.ts writes the next migration, 20261124101410_load_rgi_emoji.sql, and the api
--   suite checks it for drift). The check is one primary-key probe.
-- * public.chat_emoji: a chat's own emoji, a :short_code: and an image in the avatars bucket (validated like the
--   profile avatar: the uploader's own folder). Owners and admins add and remove them; members read them and react
--   with them. Reactions made with an emoji that is later removed stay, shown by their short code.

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table private.rgi_emoji (
  emoji text primary key,
  emoji_version text not null
);
comment on table private.rgi_emoji is
  'Unicode''s RGI emoji (the fully-qualified lines of emoji-test.txt), one row per emoji or sequence; generated data.';

create table public.chat_emoji (
  chat_id uuid not null references public.chats (id) on delete cascade,
  shortcode text not null,
  image_path text not null,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (chat_id, shortcode),
  constraint chat_emoji_shortcode_format check (shortcode ~ '^:[a-z0-9_+-]{2,32}:$'),
  constraint chat_emoji_image_path_format check (image_path ~ '^[0-9a-f-]{36}/[^/]{1,200}$')
);
comment on table public.chat_emoji is
  'Custom emoji of a chat: a :short_code: members may react with, and its image in the avatars bucket.';
comment on column public.chat_emoji.shortcode is 'The reaction text, colons included: 2-32 of a-z, 0-9, _ + -.';
comment on column public.chat_emoji.image_path is 'Path in the avatars bucket: <id of the admin who added it>/<file name>.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
-- The primary key serves the reaction check and the list (chat_id, then keyset on shortcode).
create index chat_emoji_created_by_idx on public.chat_emoji (created_by);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on private.rgi_emoji from public, anon, authenticated;
grant select on private.rgi_emoji to service_role;
revoke all on public.chat_emoji from anon, authenticated;
grant select on public.chat_emoji to authenticated;
grant all on public.chat_emoji to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table private.rgi_emoji enable row level security;
alter table public.chat_emoji enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "members can read the custom emoji of their chats"
  on public.chat_emoji for select to authenticated
  using (exists (select 1 from public.chat_members m where m.chat_id = chat_emoji.chat_id and m.user_id = (select auth.uid())));

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
-- The reaction a client asked for, as stored: an RGI emoji (a lone character sent without its emoji presentation
-- selector, such as U+2764 for ❤️, is taken as its fully-qualified form), or a custom emoji of the chat. 22023 otherwise.
create function private.reaction_key(chat uuid, requested text) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  e text := btrim(requested);
begin
  if e is not null and e <> '' and char_length(e) <= 64 then
    if exists (select 1 from private.rgi_emoji r where r.emoji = e) then
      return e;
    end if;
    if char_length(e) = 1 and exists (select 1 from private.rgi_emoji r where r.emoji = e || U&'\FE0F') then
      return e || U&'\FE0F';
    end if;
    if e ~ '^:[a-z0-9_+-]{2,32}:$' then
      if exists (select 1 from public.chat_emoji ce where ce.chat_id = chat and ce.shortcode = e) then
        return e;
      end if;
      raise exception 'unknown custom emoji' using errcode = '22023',
        hint = 'This chat has no emoji with that short code; read chat_emoji for the ones it has.';
    end if;
  end if;
  raise exception 'invalid emoji' using errcode = '22023',
    hint = 'React with exactly one emoji of Unicode''s RGI list (skin tones, ZWJ sequences, keycaps and flags included) or a :short_code: of the chat''s custom emoji.';
end
$$;
comment on function private.reaction_key(uuid, text) is
  'The stored form of a reaction: one RGI emoji or a custom emoji of the chat; raises 22023 otherwise.';
revoke all on function private.reaction_key(uuid, text) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------------------------------------------
create function public.add_chat_emoji(chat_id uuid, shortcode text, image_path text) returns public.chat_emoji
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(); -- guests and suspended users do not write (moderation migration)
  code text := lower(btrim(add_chat_emoji.shortcode));
  path text;
  e public.chat_emoji;
begin
  perform private.require_admin(add_chat_emoji.chat_id);
  if code is null or code !~ '^:[a-z0-9_+-]{2,32}:$' then
    raise exception 'invalid short code' using errcode = '22023',
      hint = 'Use :name: with 2-32 lowercase letters, digits, _ + or - between the colons.';
  end if;
  path := private.assert_image_path(add_chat_emoji.image_path, me, 'emoji image');
  if path is null then
    raise exception 'emoji image is required' using errcode = '22023', hint = 'Give the image''s path in the avatars bucket.';
  end if;
  if exists (select 1 from public.chat_emoji ce where ce.chat_id = add_chat_emoji.chat_id and ce.shortcode = code) then
    raise exception 'the chat already has this emoji' using errcode = '23505', hint = 'Remove it first or choose another short code.';
  end if;
  if (select count(*) from public.chat_emoji ce where ce.chat_id = add_chat_emoji.chat_id) >= 200 then
    raise exception 'too many custom emoji' using errcode = '23514', hint = 'A chat has at most 200 custom emoji; remove one first.';
  end if;
  insert into public.chat_emoji (chat_id, shortcode, image_path, created_by)
  values (add_chat_emoji.chat_id, code, path, me)
  returning * into e;
  return e;
end
$$;
comment on function public.add_chat_emoji(uuid, text, text) is
  'Adds a custom emoji to a group or channel (owner and admins): a :short_code: and its image in the avatars bucket.';
revoke all on function public.add_chat_emoji(uuid, text, text) from public, anon, authenticated;
grant execute on function public.add_chat_emoji(uuid, text, text) to authenticated, service_role;

create function public.remove_chat_emoji(chat_id uuid, shortcode text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  perform private.require_admin(remove_chat_emoji.chat_id);
  delete from public.chat_emoji ce
   where ce.chat_id = remove_chat_emoji.chat_id and ce.shortcode = lower(btrim(remove_chat_emoji.shortcode));
  return found;
end
$$;
comment on function public.remove_chat_emoji(uuid, text) is
  'Removes a custom emoji (owner and admins); true if it existed. Reactions made with it stay.';
revoke all on function public.remove_chat_emoji(uuid, text) from public, anon, authenticated;
grant execute on function public.remove_chat_emoji(uuid, text) to authenticated, service_role;

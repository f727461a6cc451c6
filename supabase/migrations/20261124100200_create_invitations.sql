-- Invitations to groups and channels.
-- * Invite links: a random token with an optional expiry and use limit; anyone signed in who has the token can
--   preview the chat and join (unless banned). Admins create and revoke them.
-- * Direct invitations: an admin invites a user, who accepts or declines.

-- ---------------------------------------------------------------------------------------------------------------
-- extensions
-- ---------------------------------------------------------------------------------------------------------------
create extension if not exists pgcrypto with schema extensions;

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.invitation_status as enum ('pending', 'accepted', 'declined', 'revoked');

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.chat_invitations (
  id uuid primary key default gen_random_uuid(),
  chat_id uuid not null references public.chats (id) on delete cascade,
  created_by uuid references public.profiles (id) on delete set null,
  token text unique,
  invited_user_id uuid references public.profiles (id) on delete cascade,
  status public.invitation_status not null default 'pending',
  expires_at timestamptz,
  max_uses integer,
  use_count integer not null default 0,
  created_at timestamptz not null default now(),
  responded_at timestamptz,
  constraint chat_invitations_link_or_user check ((token is null) <> (invited_user_id is null)),
  constraint chat_invitations_max_uses_positive check (max_uses is null or max_uses between 1 and 100000)
);
comment on table public.chat_invitations is
  'Invite links (token, expiry, use limit) and direct invitations of a user to a group or channel.';
comment on column public.chat_invitations.token is 'Invite links only: the secret a user passes to accept_invite_link.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create index chat_invitations_chat_idx on public.chat_invitations (chat_id, created_at desc);

create index chat_invitations_invited_user_idx on public.chat_invitations (invited_user_id, created_at desc)
  where invited_user_id is not null;

create unique index chat_invitations_one_pending_per_user on public.chat_invitations (chat_id, invited_user_id)
  where invited_user_id is not null and status = 'pending';

create index chat_invitations_created_by_idx on public.chat_invitations (created_by);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.chat_invitations from anon, authenticated;
grant select on public.chat_invitations to authenticated;
grant all on public.chat_invitations to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: realtime events of direct invitations (user topics; stored for get_updates)
-- ---------------------------------------------------------------------------------------------------------------
-- invitation.received to the invitee; invitation.answered (accepted or declined) to the inviter and to the invitee's
-- other devices; invitation.revoked to the invitee. At most two rows per change. Other admins see pending
-- invitations in chat_invitations and an accepted one as participant.added on the chat topic.
create function private.on_invitation_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  data jsonb := jsonb_build_object('invitation_id', new.id, 'chat_id', new.chat_id, 'invited_by', new.created_by,
                                   'user_id', new.invited_user_id, 'status', new.status, 'expires_at', new.expires_at,
                                   'responded_at', new.responded_at);
begin
  if tg_op = 'INSERT' then
    perform private.emit_user_event(new.invited_user_id, 'invitation.received', data);
  elsif new.status = 'revoked' then
    perform private.emit_user_event(new.invited_user_id, 'invitation.revoked', data);
  else
    perform private.emit_user_event(new.invited_user_id, 'invitation.answered', data);
    if new.created_by is not null and new.created_by <> new.invited_user_id then
      perform private.emit_user_event(new.created_by, 'invitation.answered', data);
    end if;
  end if;
  return null;
end
$$;
revoke all on function private.on_invitation_changed() from public, anon, authenticated;

create trigger chat_invitations_emit_received after insert on public.chat_invitations
  for each row when (new.invited_user_id is not null)
  execute function private.on_invitation_changed();

create trigger chat_invitations_emit_changed after update of status on public.chat_invitations
  for each row when (new.invited_user_id is not null and old.status = 'pending' and new.status <> 'pending')
  execute function private.on_invitation_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.chat_invitations enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "admins can read their chats' invitations and users their own"
  on public.chat_invitations for select to authenticated
  using (
    exists (select 1 from public.chat_members m
             where m.chat_id = chat_invitations.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin'))
    or invited_user_id = (select auth.uid())
  );

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------------------------------------------
create function private.require_invitable(chat uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_member(chat);
  if (select kind from public.chats where id = chat) = 'direct' then
    raise exception 'direct chats take no invitations' using errcode = '22023', hint = 'Create a group instead.';
  end if;
  perform private.require_admin(chat);
end
$$;
revoke all on function private.require_invitable(uuid) from public, anon, authenticated;

create function public.create_invite_link(chat_id uuid, expires_in_seconds integer default 604800, max_uses integer default null)
returns public.chat_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  inv public.chat_invitations;
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  perform private.require_invitable(create_invite_link.chat_id);
  if expires_in_seconds is not null and expires_in_seconds not between 60 and 31536000 then
    raise exception 'expiry must be between one minute and one year' using errcode = '22023',
      hint = 'Pass expires_in_seconds between 60 and 31536000, or null for a link that does not expire.';
  end if;
  if max_uses is not null and max_uses not between 1 and 100000 then
    raise exception 'max_uses must be between 1 and 100000' using errcode = '22023', hint = 'Or null for no limit.';
  end if;
  perform private.rate_limit('invite_link');
  insert into public.chat_invitations (chat_id, created_by, token, expires_at, max_uses)
  values (create_invite_link.chat_id, auth.uid(),
          translate(encode(extensions.gen_random_bytes(18), 'base64'), '+/', '-_'),
          now() + make_interval(secs => expires_in_seconds), max_uses)
  returning * into inv;
  return inv;
end
$$;
comment on function public.create_invite_link(uuid, integer, integer) is
  'Creates an invite link for a group or channel (admins). Default expiry 7 days; null for none.';
revoke all on function public.create_invite_link(uuid, integer, integer) from public, anon, authenticated;
grant execute on function public.create_invite_link(uuid, integer, integer) to authenticated, service_role;

create function public.get_invite_link_info(token text)
returns table (chat_id uuid, kind public.chat_kind, title text, description text, avatar_path text,
               member_count integer, expires_at timestamptz, already_member boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_user();
  if exists (select 1 from public.chat_invitations i join public.chat_bans b on b.chat_id = i.chat_id
              where i.token = get_invite_link_info.token and b.user_id = auth.uid()) then
    raise exception 'you are banned from this chat' using errcode = '42501', hint = 'Ask an admin to unban you.';
  end if;
  return query
    select c.id, c.kind, c.title, c.description, c.avatar_path, c.member_count, i.expires_at,
           exists (select 1 from public.chat_members m where m.chat_id = c.id and m.user_id = auth.uid())
      from public.chat_invitations i
      join public.chats c on c.id = i.chat_id
     where i.token = get_invite_link_info.token and i.status = 'pending'
       and (i.expires_at is null or i.expires_at > now())
       and (i.max_uses is null or i.use_count < i.max_uses);
  if not found then
    raise exception 'invite link not found or expired' using errcode = 'PT404', hint = 'Ask for a new link.';
  end if;
end
$$;
comment on function public.get_invite_link_info(text) is 'Preview of the chat behind an invite link, without joining.';
revoke all on function public.get_invite_link_info(text) from public, anon, authenticated;
grant execute on function public.get_invite_link_info(text) to authenticated, service_role;

create function public.accept_invite_link(token text) returns public.chat_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(); -- signed in, not a guest, not suspended (moderation migration)
  inv public.chat_invitations;
  m public.chat_members;
begin
  select * into inv from public.chat_invitations i where i.token = accept_invite_link.token for update;
  if inv.id is null or inv.status <> 'pending' or (inv.expires_at is not null and inv.expires_at <= now())
     or (inv.max_uses is not null and inv.use_count >= inv.max_uses) then
    raise exception 'invite link not found or expired' using errcode = 'PT404', hint = 'Ask for a new link.';
  end if;
  if private.add_member(inv.chat_id, me, me, 'member') then
    update public.chat_invitations set use_count = use_count + 1 where id = inv.id;
  end if;
  select * into m from public.chat_members cm where cm.chat_id = inv.chat_id and cm.user_id = me;
  return m;
end
$$;
comment on function public.accept_invite_link(text) is
  'Joins the chat behind an invite link (counts one use; already a member: no-op). Banned users are refused.';
revoke all on function public.accept_invite_link(text) from public, anon, authenticated;
grant execute on function public.accept_invite_link(text) to authenticated, service_role;

-- The pending invitation of a user to a chat, made if there is none (the checks are the caller's): counted against
-- the actor's invite limit, and stranger_add when the two share no chat. Also where an add that the user's
-- who_can_add refuses ends up (private.add_member).
create function private.invite_member(chat uuid, member uuid, actor uuid) returns public.chat_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  inv public.chat_invitations;
begin
  -- An expired pending invitation is closed so that a fresh one can be sent.
  update public.chat_invitations i set status = 'revoked', responded_at = now()
   where i.chat_id = chat and i.invited_user_id = member and i.status = 'pending' and i.expires_at <= now();
  select * into inv from public.chat_invitations i
   where i.chat_id = chat and i.invited_user_id = member and i.status = 'pending';
  if inv.id is not null then
    return inv;
  end if;
  perform private.rate_limit('invite', actor);
  if not private.shares_chat(actor, member) then
    perform private.rate_limit('stranger_add', actor);
  end if;
  insert into public.chat_invitations (chat_id, created_by, invited_user_id, expires_at)
  values (chat, actor, member, now() + interval '30 days')
  returning * into inv;
  return inv;
end
$$;
comment on function private.invite_member(uuid, uuid, uuid) is
  'The pending invitation of a user to a chat (made if none, counting the invite and stranger_add limits).';
revoke all on function private.invite_member(uuid, uuid, uuid) from public, anon, authenticated;

create function public.invite_user(chat_id uuid, user_id uuid) returns public.chat_invitations
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  perform private.require_invitable(invite_user.chat_id);
  if not exists (select 1 from public.profiles p where p.id = invite_user.user_id) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
  end if;
  if private.chat_role_of(invite_user.chat_id, invite_user.user_id) is not null then
    raise exception 'user is already a member' using errcode = '23505', hint = 'No invitation needed.';
  end if;
  if exists (select 1 from public.chat_bans b where b.chat_id = invite_user.chat_id and b.user_id = invite_user.user_id) then
    raise exception 'user is banned from this chat' using errcode = '42501', hint = 'Unban the user first.';
  end if;
  if private.is_blocked_between(auth.uid(), invite_user.user_id) then
    raise exception 'user cannot be invited' using errcode = '42501', hint = 'One of you has blocked the other.';
  end if;
  return private.invite_member(invite_user.chat_id, invite_user.user_id, auth.uid());
end
$$;
comment on function public.invite_user(uuid, uuid) is
  'Invites a user to a group or channel (admins); idempotent while pending; expires after 30 days.';
revoke all on function public.invite_user(uuid, uuid) from public, anon, authenticated;
grant execute on function public.invite_user(uuid, uuid) to authenticated, service_role;

create function public.respond_to_invitation(invitation_id uuid, accept boolean) returns public.chat_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  inv public.chat_invitations;
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  select * into inv from public.chat_invitations i
   where i.id = respond_to_invitation.invitation_id and i.invited_user_id = auth.uid()
   for update;
  if inv.id is null then
    raise exception 'invitation not found' using errcode = 'PT404', hint = 'Check your invitations.';
  end if;
  if inv.status <> 'pending' or (inv.expires_at is not null and inv.expires_at <= now()) then
    raise exception 'invitation is no longer open' using errcode = '22023', hint = 'Ask for a new invitation.';
  end if;
  if accept is null then
    raise exception 'accept must be true or false' using errcode = '22023', hint = 'Pass accept => true or false.';
  end if;
  if accept then
    perform private.add_member(inv.chat_id, auth.uid(), auth.uid(), 'member');
  end if;
  update public.chat_invitations i
     set status = case when accept then 'accepted'::public.invitation_status else 'declined' end, responded_at = now()
   where i.id = inv.id
  returning * into inv;
  return inv;
end
$$;
comment on function public.respond_to_invitation(uuid, boolean) is 'Accepts (joins) or declines a direct invitation addressed to you.';
revoke all on function public.respond_to_invitation(uuid, boolean) from public, anon, authenticated;
grant execute on function public.respond_to_invitation(uuid, boolean) to authenticated, service_role;

create function public.revoke_invitation(invitation_id uuid) returns public.chat_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  inv public.chat_invitations;
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  select * into inv from public.chat_invitations i where i.id = revoke_invitation.invitation_id;
  if inv.id is null or private.chat_role_of(inv.chat_id, auth.uid()) is null then
    raise exception 'invitation not found' using errcode = 'PT404', hint = 'Check the invitation id.';
  end if;
  perform private.require_admin(inv.chat_id);
  update public.chat_invitations i set status = 'revoked', responded_at = now()
   where i.id = inv.id and i.status = 'pending'
  returning * into inv;
  if inv.id is null then
    select * into inv from public.chat_invitations i where i.id = revoke_invitation.invitation_id;
  end if;
  return inv;
end
$$;
comment on function public.revoke_invitation(uuid) is 'Revokes a pending invite link or invitation (admins).';
revoke all on function public.revoke_invitation(uuid) from public, anon, authenticated;
grant execute on function public.revoke_invitation(uuid) to authenticated, service_role;

-- Messages with files: send_message takes the ids of attachments the sender uploaded to the same chat and links
-- them to the new message (attachments.message_id). Clients read a message's files by embedding the relationship:
-- `from('messages').select('*, attachments(*)')`. The function is replaced with one more (defaulted) parameter;
-- the old signature is dropped so that PostgREST sees exactly one send_message. Everything else is unchanged.

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: sending
-- ---------------------------------------------------------------------------------------------------------------
drop function public.send_message(uuid, text, public.message_kind, uuid, uuid, uuid[], jsonb, uuid);

create function public.send_message(
  chat_id uuid,
  body text default null,
  kind public.message_kind default 'text',
  reply_to_id uuid default null,
  thread_root_id uuid default null,
  mentions uuid[] default '{}',
  metadata jsonb default '{}'::jsonb,
  client_id uuid default null,
  attachment_ids uuid[] default '{}'
) returns public.messages
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  c public.chats;
  member public.chat_members;
  msg public.messages;
  other uuid;
  clean_body text := nullif(regexp_replace(send_message.body, '^\s+|\s+$', '', 'g'), '');
  clean_mentions uuid[];
  max_chars integer := (private.limits() ->> 'body_max_chars')::integer;
  files uuid[] := coalesce(send_message.attachment_ids, '{}');
begin
  -- Input checks first: a bad request changes nothing.
  if send_message.kind = 'system' then
    raise exception 'system messages are written by the server' using errcode = '22023', hint = 'Use kind text, image, file, voice or video.';
  end if;
  if clean_body is null and send_message.kind = 'text' and cardinality(files) = 0 then
    raise exception 'message is empty' using errcode = '22023', hint = 'Give a body.';
  end if;
  if char_length(clean_body) > max_chars then
    raise exception 'message is too long' using errcode = '22023', hint = format('At most %s characters.', max_chars);
  end if;
  if jsonb_typeof(coalesce(send_message.metadata, '{}'::jsonb)) <> 'object' then
    raise exception 'metadata must be a JSON object' using errcode = '22023', hint = 'Pass an object or leave it out.';
  end if;
  if pg_column_size(coalesce(send_message.metadata, '{}'::jsonb)) > 8192 then
    raise exception 'metadata is too large' using errcode = '22023', hint = 'At most 8 KB of metadata.';
  end if;
  if cardinality(coalesce(send_message.mentions, '{}')) > (private.limits() ->> 'mentions_max')::integer then
    raise exception 'too many mentions' using errcode = '22023', hint = 'Mention at most 50 users.';
  end if;
  if cardinality(files) > 10 or array_position(files, null) is not null
     or cardinality(files) <> (select count(distinct f) from unnest(files) f) then
    raise exception 'invalid attachment list' using errcode = '22023',
      hint = 'Pass at most 10 distinct attachment ids.';
  end if;

  -- The chat row's lock serializes sends per chat: the sequence is gap-free and idempotency is race-free.
  select * into c from public.chats where id = send_message.chat_id for update;
  select * into member from public.chat_members m where m.chat_id = send_message.chat_id and m.user_id = me;
  if c.id is null or member.user_id is null then
    raise exception 'chat not found' using errcode = 'PT404',
      hint = 'The chat does not exist or you are not a member of it.';
  end if;

  if send_message.client_id is not null then
    select * into msg from public.messages m
     where m.chat_id = send_message.chat_id and m.author_id = me and m.client_id = send_message.client_id;
    if msg.id is not null then
      return msg;
    end if;
  end if;

  if c.who_can_post = 'admins' and member.role = 'member' then
    raise exception 'only admins can post in this chat' using errcode = '42501', hint = 'This is a read-only channel for members.';
  end if;
  if c.kind = 'direct' then
    select m.user_id into other from public.chat_members m where m.chat_id = c.id and m.user_id <> me;
    if other is null or private.is_blocked_between(me, other) then
      raise exception 'cannot message this user' using errcode = '42501',
        hint = 'One of you has blocked the other or left the chat.';
    end if;
  end if;
  if c.slow_mode_seconds > 0 and member.role = 'member' and member.last_posted_at is not null
     and member.last_posted_at > now() - make_interval(secs => c.slow_mode_seconds) then
    raise exception 'slow mode is on'
      using errcode = 'PT429',
            detail = json_build_object('retry_after_seconds',
              ceil(extract(epoch from member.last_posted_at + make_interval(secs => c.slow_mode_seconds) - now())))::text,
            hint = format('One message per %s seconds in this chat; retry after %s seconds.', c.slow_mode_seconds,
              ceil(extract(epoch from member.last_posted_at + make_interval(secs => c.slow_mode_seconds) - now())));
  end if;
  perform private.check_send_rate(me);

  if send_message.reply_to_id is not null and not exists (
    select 1 from public.messages m where m.id = send_message.reply_to_id and m.chat_id = c.id and m.seq > member.history_from_seq
  ) then
    raise exception 'replied-to message not found in this chat' using errcode = 'PT404', hint = 'Reply to a message of the same chat.';
  end if;
  if send_message.thread_root_id is not null then
    update public.messages m set reply_count = m.reply_count + 1, last_reply_at = now()
     where m.id = send_message.thread_root_id and m.chat_id = c.id and m.thread_root_id is null
       and m.seq > member.history_from_seq and m.deleted_at is null;
    if not found then
      raise exception 'thread not found in this chat' using errcode = 'PT404',
        hint = 'A thread starts at a top-level, not deleted message of the same chat.';
    end if;
  end if;

  -- Mentions are kept only for users who are members of the chat.
  clean_mentions := '{}';
  if cardinality(send_message.mentions) > 0 then
    select coalesce(array_agg(distinct m.user_id), '{}') into clean_mentions
      from public.chat_members m
     where m.chat_id = c.id and m.user_id = any (send_message.mentions);
  end if;

  -- Attachments: uploaded by the sender to this chat, not sent yet, and not refused by the scan. Locked so that two
  -- sends cannot both claim them.
  if cardinality(files) > 0 then
    if (select count(*) from public.attachments a
         where a.id = any (files) and a.chat_id = c.id and a.uploader_id = me and a.message_id is null) <> cardinality(files)
    then
      raise exception 'attachment not found' using errcode = 'PT404',
        hint = 'Attach files you uploaded to this chat and have not sent yet.';
    end if;
    perform 1 from public.attachments a where a.id = any (files) for update;
    if exists (select 1 from public.attachments a where a.id = any (files) and a.scan_status in ('infected', 'error')) then
      raise exception 'attachment failed the virus scan' using errcode = '22023',
        hint = 'Files found infected or that could not be scanned cannot be sent; upload another file.';
    end if;
  end if;

  insert into public.messages (chat_id, seq, author_id, kind, body, metadata, reply_to_id, thread_root_id, mentions, client_id)
  values (c.id, c.last_message_seq + 1, me, send_message.kind, clean_body, coalesce(send_message.metadata, '{}'::jsonb),
          send_message.reply_to_id, send_message.thread_root_id, clean_mentions, send_message.client_id)
  returning * into msg;

  update public.chats set last_message_seq = msg.seq, last_message_at = msg.created_at, last_activity_at = msg.created_at
   where id = c.id;
  update public.chat_members m set last_read_seq = msg.seq, last_read_at = msg.created_at, last_posted_at = msg.created_at
   where m.chat_id = c.id and m.user_id = me;
  if cardinality(files) > 0 then
    update public.attachments a set message_id = msg.id where a.id = any (files);
  end if;
  return msg;
end
$$;
comment on function public.send_message(uuid, text, public.message_kind, uuid, uuid, uuid[], jsonb, uuid, uuid[]) is
  'Sends a message, optionally with attachments the sender uploaded to the chat. Idempotent by client_id. Enforces '
  'membership, posting rights, blocks, slow mode and the send rate.';

-- ---------------------------------------------------------------------------------------------------------------
-- function grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on function public.send_message(uuid, text, public.message_kind, uuid, uuid, uuid[], jsonb, uuid, uuid[])
  from public, anon;
grant execute on function public.send_message(uuid, text, public.message_kind, uuid, uuid, uuid[], jsonb, uuid, uuid[])
  to authenticated, service_role;

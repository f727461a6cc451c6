-- The catch-up page (get_chat_events) reads the page's messages, authors and files once per page and renders a
-- message event as nested rows (realtime_events migration). Whatever it reads in bulk, each event must stay exactly
-- what private.event_json renders for it: an author of several messages on every one of them, a message whose
-- author is gone with a null author, a message's files in order, none for a deleted message, the member's history
-- rule, and pages that add up to the whole.
begin;
create extension if not exists pgtap with schema extensions;
select plan(11);

-- fixtures ----------------------------------------------------------------------------------------------------------
select tests.create_user(u) from unnest(array['carol', 'dave', 'erin', 'late']) u;
select tests.new_file(f) from unnest(array['f1', 'f2', 'f3']) f;
select tests.create_group('crowd', 'carol', members => array['dave', 'erin'], title => 'Crowd');
select tests.send_message('c' || g, 'carol', 'crowd', 'carol ' || g) from generate_series(1, 4) g;
select tests.authenticate_as('dave');
select tests.storage_upload('attachments', tests.attachment_path('crowd', 'f1', 'b.png'), 'image/png', 100);
select tests.storage_upload('attachments', tests.attachment_path('crowd', 'f2', 'a.png'), 'image/png', 200);
select tests.storage_upload('attachments', tests.attachment_path('crowd', 'f3', 'c.png'), 'image/png', 300);
reset role;
select tests.send_message('d_two_files', 'dave', 'crowd', 'two files', 'image', array['f1', 'f2']);
select tests.send_message('d_gone', 'dave', 'crowd', 'deleted with a file', 'image', array['f3']);
select tests.commit_point();
select tests.authenticate_as('dave');
select public.delete_message(tests.id('d_gone'));
select tests.authenticate_as('erin');
select public.toggle_reaction(tests.id('c2'), '👍');
reset role;
select tests.send_message('e1', 'erin', 'crowd', 'erin speaks');
-- A message whose author's profile is gone (messages.author_id is `on delete set null`).
update public.messages set author_id = null where id = tests.id('e1');
-- A member who joins with the history hidden, then more messages.
update public.chats set history_visible_to_new_members = false where id = tests.id('crowd');
select tests.authenticate_as('carol');
select public.add_chat_members(tests.id('crowd'), array[tests.get_user_id('late')]);
reset role;
select tests.send_message('c5', 'carol', 'crowd', 'after late joined');
select tests.send_message('d3', 'dave', 'crowd', 'after late joined too');
select tests.commit_point();  -- the deferred events (deletion, reaction) are logged at commit

-- What event_json renders for a member: the events after they joined, message events within their history.
reset role;
create temp table expected (who text primary key, events jsonb);
insert into expected
  select u, (select jsonb_agg(private.event_json(e) order by e.seq) from private.chat_events e
                   join public.chat_members m on m.chat_id = e.chat_id and m.user_id = tests.get_user_id(u)
                  where e.chat_id = tests.id('crowd') and e.seq > m.joined_event_seq
                    and (e.message_seq is null or e.message_seq > m.history_from_seq))
    from unnest(array['dave', 'late']) u;
grant select on expected to authenticated;
select cmp_ok((select jsonb_array_length(events) from expected where who = 'dave'), '>=', 12,
  'the fixture is a page of many events (messages, files, a deletion, a reaction, a member)');

-- the page ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('dave');
select is(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events', (select events from expected where who = 'dave'),
  'a page is exactly the events as event_json renders them');
select is((select count(*)::int from jsonb_array_elements(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events') e
            where e ->> 'event' = 'message.sent' and e -> 'data' -> 'message' -> 'author' ->> 'id' = tests.id('carol')::text),
  5, 'an author of five messages in the page has their card on each of them');
select is((select e -> 'data' -> 'message' -> 'author' from jsonb_array_elements(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events') e
            where e -> 'data' ->> 'message_id' = tests.id('e1')::text and e ->> 'event' = 'message.sent'),
  'null'::jsonb, 'a message whose author is gone has a null author');
select is((select jsonb_agg(f ->> 'id') from jsonb_array_elements(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events') e,
                 jsonb_array_elements(e -> 'data' -> 'message' -> 'attachments') f
            where e -> 'data' ->> 'message_id' = tests.id('d_two_files')::text and e ->> 'event' = 'message.sent'),
  (select jsonb_agg(a.id order by a.created_at, a.id) from public.attachments a where a.message_id = tests.id('d_two_files')),
  'a message with two files lists both, in upload order');
select is((select jsonb_agg(e -> 'data' -> 'message' -> 'attachments') from jsonb_array_elements(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events') e
            where e -> 'data' ->> 'message_id' = tests.id('d_gone')::text),
  '[[], []]'::jsonb, 'a deleted message lists no files, in its message.sent and its message.deleted');

-- paging --------------------------------------------------------------------------------------------------------------
create function pg_temp.all_pages(page_size integer) returns jsonb
language plpgsql
as $$
declare
  after bigint := 0;
  page jsonb;
  events jsonb := '[]'::jsonb;
begin
  loop
    page := tests.chat_events(tests.id('crowd'), after, page_size);
    events := events || (page -> 'events');
    after := (page ->> 'next_cursor')::bigint;
    exit when not (page ->> 'has_more')::boolean;
  end loop;
  return events;
end
$$;
select is(pg_temp.all_pages(3), (select events from expected where who = 'dave'),
  'pages of three add up to the whole page');
select is((tests.chat_events(tests.id('crowd'), 0, 500) ->> 'next_cursor')::bigint,
  (select last_event_seq from public.chats where id = tests.id('crowd')),
  'the whole page ends at the chat''s latest cursor');

-- a member whose history starts later -----------------------------------------------------------------------------------
select tests.authenticate_as('late');
select is(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events', (select events from expected where who = 'late'),
  'a member who joined with the history hidden gets exactly their events');
select is((select count(*)::int from jsonb_array_elements(tests.chat_events(tests.id('crowd'), 0, 500) -> 'events') e
            where e ->> 'event' = 'message.sent'),
  2, '...which hold only the messages sent after they joined');
select is(pg_temp.all_pages(2), (select events from expected where who = 'late'),
  '...also in pages of two');

select * from finish();
rollback;

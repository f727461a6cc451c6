-- One rule per act (issue 21): deleting a file through Storage is decided by the rule that decides deleting its
-- message (private.can_delete_message, also behind delete_message). An admin does not remove the owner's files; a
-- removed or banned uploader does not delete files from a chat they left; an unsent file is its uploader's alone,
-- while a member. The last block compares the two paths for every persona and every sent file.
begin;
create extension if not exists pgtap with schema extensions;
select plan(14);

-- delete_message as the current user, rolled back either way: would it be allowed?
create function pg_temp.may_delete_message(message uuid) returns boolean language plpgsql as $$
begin
  begin
    perform public.delete_message(message);
    raise exception 'roll back the probe' using errcode = 'T0001';
  exception when sqlstate 'T0001' then
    return true;
  end;
exception when others then
  return false;
end
$$;
grant execute on function pg_temp.may_delete_message(uuid) to authenticated;

-- alice owns the group, adam is an admin, mia and bob are members, rex will be removed and bert banned.
select tests.create_user(u) from unnest(array['alice', 'adam', 'mia', 'bob', 'rex', 'bert']) u;
select tests.create_group('group', 'alice', members => array['adam', 'mia', 'bob', 'rex', 'bert'], admins => array['adam'],
  title => 'Delete rule');
select tests.upload_file('owner_file', 'alice', 'group', 'owner.png', 'image/png', 4000);
select tests.send_message('owner_msg', 'alice', 'group', 'from the owner', 'image', files => array['owner_file']);
select tests.upload_file('admin_file', 'adam', 'group', 'admin.png', 'image/png', 4000);
select tests.send_message('admin_msg', 'adam', 'group', 'from the admin', 'image', files => array['admin_file']);
select tests.upload_file('mia_file', 'mia', 'group', 'mia.png', 'image/png', 4000);
select tests.send_message('mia_msg', 'mia', 'group', 'from mia', 'image', files => array['mia_file']);
select tests.upload_file('mia_draft', 'mia', 'group', 'draft.png', 'image/png', 4000);
select tests.upload_file('rex_file', 'rex', 'group', 'rex.png', 'image/png', 4000);
select tests.send_message('rex_msg', 'rex', 'group', 'from rex', 'image', files => array['rex_file']);
select tests.upload_file('bert_draft', 'bert', 'group', 'bert.png', 'image/png', 4000);
-- Scanned clean, so that Storage's read check (a delete with RETURNING also needs the select policy) lets members
-- see the sent files and only the delete rule decides.
select private.set_attachment_scan_result(tests.id(f), 'clean', detected_mime_type => 'image/png')
  from unnest(array['owner_file', 'admin_file', 'mia_file', 'mia_draft', 'rex_file', 'bert_draft']) f;

-- the classes the issue names ---------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'owner_file', 'owner.png')), 0,
  'an admin cannot remove the owner''s file (as delete_message refuses the owner''s message)');
select throws_ok($$ select public.delete_message(tests.id('owner_msg')) $$, '42501', null,
  '...and cannot delete the owner''s message');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'mia_draft', 'draft.png')), 0,
  'an admin cannot remove a member''s unsent file: it is the uploader''s until sent');

select tests.authenticate_as('alice');
select public.remove_chat_member(tests.id('group'), tests.id('rex'));
select public.ban_chat_member(tests.id('group'), tests.id('bert'));
select tests.authenticate_as('rex');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'rex_file', 'rex.png')), 0,
  'a removed uploader cannot delete the file they sent to the chat they left');
select tests.authenticate_as('bert');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'bert_draft', 'bert.png')), 0,
  'a banned uploader cannot delete their unsent file in the chat');
select ok(tests.object_exists('attachments', tests.attachment_path('group', 'rex_file', 'rex.png'))
          and tests.object_exists('attachments', tests.attachment_path('group', 'bert_draft', 'bert.png')),
  'both files are still there');

-- what stays allowed ----------------------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'rex_file', 'rex.png')), 1,
  'an admin removes a former member''s sent file (delete_message lets them delete the message)');
select tests.authenticate_as('mia');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'mia_draft', 'draft.png')), 1,
  'the uploader removes their unsent file while a member');

-- one rule, two paths -----------------------------------------------------------------------------------------------
-- For every sent file left and every persona, Storage's answer is delete_message's answer.
create temporary table parity (who text, file text, message text, object_name text) on commit drop;
insert into parity
  select who, f.file, f.message, tests.attachment_path('group', f.file, f.file_name)
    from unnest(array['alice', 'adam', 'mia', 'bob', 'rex', 'bert']) who,
         (values ('owner_file', 'owner_msg', 'owner.png'), ('admin_file', 'admin_msg', 'admin.png'),
                 ('mia_file', 'mia_msg', 'mia.png')) f(file, message, file_name);
grant select on parity to authenticated;

create function pg_temp.parity_of(person text) returns text[] language plpgsql as $$
declare
  r record;
  out text[] := '{}';
begin
  perform tests.authenticate_as(person);
  for r in select * from parity p where p.who = person order by p.file loop
    if private.can_delete_attachment(r.object_name) is distinct from pg_temp.may_delete_message(tests.id(r.message)) then
      out := out || (r.file || ': storage ' || private.can_delete_attachment(r.object_name)::text);
    end if;
  end loop;
  reset role;
  return out;
end
$$;
select is(pg_temp.parity_of(who), '{}'::text[], who || ': deleting a sent file through Storage follows delete_message')
  from unnest(array['alice', 'adam', 'mia', 'bob', 'rex', 'bert']) who;

select * from finish();
rollback;

-- Storage access control: policies on storage.objects for the `avatars` and `attachments` buckets, one per operation
-- and role. The Storage API runs every request as the caller's role with the caller's JWT claims, so these policies
-- decide what a client can upload, download, list, overwrite and remove.
-- * avatars (public bucket: public URLs are served without a policy): a signed-in user writes only their own folder
--   `<user id>/`; signed-in users may list and download avatars through the API.
-- * attachments (private): members who may post upload to `<chat_id>/<new uuid>/<file name>`; the uploader reads
--   the file at once, other members once it is clean and sent in a message they can read; the uploader and the
--   chat's admins delete it. Nobody overwrites an attachment (no update policy): a changed file is a new upload.
-- Name, type and size are validated by the trigger on storage.objects (previous migration), which raises errors a
-- client can show; these policies decide only who.

-- ---------------------------------------------------------------------------------------------------------------
-- avatars
-- ---------------------------------------------------------------------------------------------------------------
create policy "signed-in users can read avatars"
  on storage.objects for select to authenticated
  using (bucket_id = 'avatars');

create policy "users can upload an avatar to their own folder"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "users can replace avatars in their own folder"
  on storage.objects for update to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "users can delete avatars in their own folder"
  on storage.objects for delete to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);

-- ---------------------------------------------------------------------------------------------------------------
-- attachments
-- ---------------------------------------------------------------------------------------------------------------
create policy "members who may post can upload attachments to their chat"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'attachments' and private.can_upload_attachment(name));

create policy "uploaders and members can read clean attachments of messages they can read"
  on storage.objects for select to authenticated
  using (bucket_id = 'attachments' and private.can_read_attachment(name, owner_id));

create policy "uploaders and chat admins can delete attachments"
  on storage.objects for delete to authenticated
  using (bucket_id = 'attachments' and private.can_delete_attachment(name));

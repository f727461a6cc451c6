-- Scheduled jobs (pg_cron): every recurring job of the schema, in one place. Each job calls a function defined in
-- its domain's migration. pg_cron is enabled here (a no-op where it is enabled already).

-- ---------------------------------------------------------------------------------------------------------------
-- extensions
-- ---------------------------------------------------------------------------------------------------------------
create extension if not exists pg_cron with schema pg_catalog;

-- ---------------------------------------------------------------------------------------------------------------
-- jobs
-- ---------------------------------------------------------------------------------------------------------------
-- Realtime: events older than realtime_settings.event_retention leave private.chat_events and private.user_events
-- (realtime events migration, private.prune_events).
select cron.schedule('chat-events-prune', '17 3 * * *', 'select private.prune_events()')
 where not exists (select 1 from cron.job where jobname = 'chat-events-prune');

-- Presence: users whose devices stopped sending heartbeats are shown offline (presence migration,
-- private.sweep_presence).
select cron.schedule('presence-sweep', '* * * * *', 'select private.sweep_presence()')
 where not exists (select 1 from cron.job where jobname = 'presence-sweep');

-- Files: scans that never reported are queued again and transient errors retried with backoff (attachments
-- migration, private.sweep_attachment_scans).
select cron.schedule('attachments-scan-sweep', '* * * * *', 'select private.sweep_attachment_scans()');

-- Files: unsent uploads older than private.unsent_attachment_lifetime() and the files of deleted messages are
-- removed through Storage by the attachments-cleanup edge function (attachments migration).
select cron.schedule('attachments-unsent-cleanup', '17 * * * *',
  $$select private.invoke_function('attachments-cleanup', '{}'::jsonb)$$);

-- Notifications: the backstop of the pg_net wake-up and the sender of delayed mention emails (notifications
-- migration, private.sweep_notification_outbox).
select cron.schedule('notifications-deliver', '* * * * *', 'select private.sweep_notification_outbox()');

-- Retention: expired messages (disappearing messages, the app-wide retention) become tombstones in batches, and
-- expired export archives are removed (gdpr_retention migration, private.expire_messages).
select cron.schedule('messages-expire', '* * * * *', 'select private.expire_messages()');

-- Search: messages queued by their send are moved into the search index in batches (search migration,
-- private.drain_search_pending). They are searchable before that too, from the queue. Every minute is pg_cron's
-- finest cron schedule; pg_cron 1.5 and later (Supabase) also takes '5 seconds', which keeps the queue shorter.
select cron.schedule('search-index', '* * * * *', 'call private.drain_search_pending()');

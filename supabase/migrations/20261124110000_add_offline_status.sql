-- Presence: the status others see becomes `offline` for invisible users and for users whose devices stopped sending
-- heartbeats. The new enum value gets its own migration because PostgreSQL cannot use an enum value in the
-- transaction that adds it.

alter type public.user_status add value if not exists 'offline';
comment on type public.user_status is
  'Presence. Users choose online, away, busy or invisible; profiles.status shows offline for invisible and inactive users.';

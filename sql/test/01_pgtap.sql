-- Test databases only: pgTAP in the extensions schema (Supabase's `supabase test db` uses the same).
create extension if not exists pgtap with schema extensions;

// The user JSON GoTrue answers with (supabase/auth:internal/models/user.go User, identity.go Identity, factor.go
// Factor): `?`-fields omitted when empty, email/phone as "" when NULL (storage.NullString).
import type { FactorRow, IdentityRow, Sql, UserRow } from "./store.ts";
import { factorsOf, identitiesOf } from "./store.ts";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

export function identityJson(i: IdentityRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    identity_id: i.id,
    id: i.provider_id,
    user_id: i.user_id,
    identity_data: i.identity_data,
    provider: i.provider,
  };
  if (i.last_sign_in_at) out.last_sign_in_at = iso(i.last_sign_in_at);
  out.created_at = iso(i.created_at);
  out.updated_at = iso(i.updated_at);
  if (i.email) out.email = i.email;
  return out;
}

export function factorJson(f: FactorRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.id,
    created_at: iso(f.created_at),
    updated_at: iso(f.updated_at),
    status: f.status,
  };
  if (f.friendly_name) out.friendly_name = f.friendly_name;
  out.factor_type = f.factor_type;
  out.phone = f.phone ?? "";
  out.last_challenged_at = iso(f.last_challenged_at) ?? null;
  return out;
}

export function userJson(u: UserRow, identities: IdentityRow[], factors: FactorRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: u.id, aud: u.aud ?? "", role: u.role ?? "", email: u.email ?? "" };
  const optional = (key: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== "") out[key] = value;
  };
  optional("email_confirmed_at", iso(u.email_confirmed_at));
  optional("invited_at", iso(u.invited_at));
  out.phone = u.phone ?? "";
  optional("phone_confirmed_at", iso(u.phone_confirmed_at));
  optional("confirmation_sent_at", iso(u.confirmation_sent_at));
  optional("confirmed_at", iso(u.confirmed_at));
  optional("recovery_sent_at", iso(u.recovery_sent_at));
  optional("new_email", u.email_change);
  optional("email_change_sent_at", iso(u.email_change_sent_at));
  optional("new_phone", u.phone_change);
  optional("phone_change_sent_at", iso(u.phone_change_sent_at));
  optional("reauthentication_sent_at", iso(u.reauthentication_sent_at));
  optional("last_sign_in_at", iso(u.last_sign_in_at));
  out.app_metadata = u.raw_app_meta_data ?? {};
  out.user_metadata = u.raw_user_meta_data ?? {};
  if (factors.length > 0) out.factors = factors.map(factorJson);
  out.identities = identities.map(identityJson);
  out.created_at = iso(u.created_at);
  out.updated_at = iso(u.updated_at);
  optional("banned_until", iso(u.banned_until));
  optional("deleted_at", iso(u.deleted_at));
  out.is_anonymous = u.is_anonymous;
  return out;
}

/** The user with identities and factors loaded, as GoTrue's handlers answer. */
export async function loadUserJson(sql: Sql, u: UserRow): Promise<Record<string, unknown>> {
  return userJson(u, await identitiesOf(sql, u.id), await factorsOf(sql, u.id));
}

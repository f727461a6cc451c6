// Functions that only the database (pg_net with the service role key) or server code may call: the caller must
// present the service role key, or a valid JWT whose role is service_role. The gateway checks the signature too
// (verify_jwt); this check does not rely on it.

import { errorResponse } from "./http.ts";
import { verifyJwt } from "./jwt.ts";

export interface ServiceAuth {
  /** SUPABASE_SERVICE_ROLE_KEY: accepted as is. */
  serviceRoleKey?: string;
  /** The project's JWT secret: any HS256 token with role service_role signed with it is accepted. */
  jwtSecret?: string;
}

/** null when the request carries the service role's credentials, else the 401/403 response to send. */
export async function requireServiceRole(request: Request, auth: ServiceAuth): Promise<Response | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) return errorResponse(401, "UNAUTHORIZED", "Missing bearer token", "Call with the service role key");
  const token = match[1]!;
  if (auth.serviceRoleKey && token === auth.serviceRoleKey) return null;
  if (!auth.jwtSecret) return errorResponse(401, "UNAUTHORIZED", "Invalid JWT");
  let role: unknown;
  try {
    role = (await verifyJwt(token, auth.jwtSecret)).role;
  } catch {
    return errorResponse(401, "UNAUTHORIZED", "Invalid JWT");
  }
  if (role !== "service_role") {
    return errorResponse(403, "FORBIDDEN", "Only the service role may call this function", "It is called by the database");
  }
  return null;
}

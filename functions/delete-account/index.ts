// delete-account: erases the signed-in user's account after a recent sign-in. See functions/_shared/gdpr.ts.

import { createDeleteAccountHandler } from "../_shared/gdpr.ts";
import { gdprFunctionEnv } from "../_shared/gdpr-env.ts";

Deno.serve(createDeleteAccountHandler(gdprFunctionEnv("delete-account")));

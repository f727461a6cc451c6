// attachments-cleanup: removes uploads nobody sent within their lifetime. See functions/_shared/cleanup.ts.

import { attachmentFunctionEnv } from "../_shared/attachment-env.ts";
import { createCleanupHandler } from "../_shared/cleanup.ts";

Deno.serve(createCleanupHandler(attachmentFunctionEnv("attachments-cleanup")));

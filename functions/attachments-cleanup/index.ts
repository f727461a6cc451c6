// attachments-cleanup: removes the files nobody can use any more. See functions/_shared/cleanup.ts.

import { attachmentFunctionEnv } from "../_shared/attachment-env.ts";
import { createCleanupHandler } from "../_shared/cleanup.ts";

Deno.serve(createCleanupHandler(attachmentFunctionEnv("attachments-cleanup")));

// gdpr-export: the signed-in user's data export (job row, tar.gz, signed URL). See functions/_shared/gdpr.ts.

import { createExportHandler } from "../_shared/gdpr.ts";
import { gdprFunctionEnv } from "../_shared/gdpr-env.ts";

Deno.serve(createExportHandler(gdprFunctionEnv("gdpr-export")));

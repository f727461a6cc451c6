// scan: ClamAV verdict for an uploaded attachment. See functions/_shared/scan.ts.

import { attachmentFunctionEnv } from "../_shared/attachment-env.ts";
import { requireEnv } from "../_shared/env.ts";
import { createScanHandler } from "../_shared/scan.ts";

Deno.serve(createScanHandler({
  ...attachmentFunctionEnv("scan"),
  clamd: { host: requireEnv("CLAMD_HOST"), port: Number(requireEnv("CLAMD_PORT")) },
  maxStreamBytes: Number(Deno.env.get("SCAN_MAX_BYTES") ?? 50 * 1024 * 1024),
}));

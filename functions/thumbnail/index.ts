// thumbnail: JPEG thumbnails of clean images. See functions/_shared/thumbnail.ts.

import { attachmentFunctionEnv } from "../_shared/attachment-env.ts";
import { createThumbnailHandler } from "../_shared/thumbnail.ts";

Deno.serve(createThumbnailHandler(attachmentFunctionEnv("thumbnail")));

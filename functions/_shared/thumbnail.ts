// POST /thumbnail {"attachment_id"}: a JPEG thumbnail (longest side at most 320 px) of a clean JPEG or PNG image,
// written next to the file as <chat_id>/<attachment_id>/thumbnail/320.jpg; the image's dimensions are recorded.
//
// Called by the database (pg_net, service role) once an image is scanned clean. Pure JavaScript codecs (jpeg-js,
// fast-png) so it runs on any Deno isolate. The decoder is chosen from the bytes, not the declared type; a broken
// image records thumbnail_status `failed` with the reason, other formats (GIF, WebP) `unsupported`. Decoding is
// bounded (pixels and memory) so a decompression bomb fails instead of exhausting the isolate.

import jpeg from "npm:jpeg-js@0.4.4";
import { decode as decodePng } from "npm:fast-png@8.0.0";
import { z } from "npm:zod@4.6.7";
import { preflightResponse } from "./cors.ts";
import type { Sql } from "./db.ts";
import { errorResponse, json, methodNotAllowed, parseJsonBody } from "./http.ts";
import { requireServiceRole, type ServiceAuth } from "./service-auth.ts";
import { sniffType } from "./sniff.ts";
import type { ObjectStorage } from "./storage.ts";

export const thumbnailRequestSchema = z.object({ attachment_id: z.uuid() });

export interface ThumbnailDeps {
  sql: Sql;
  storage: ObjectStorage;
  auth: ServiceAuth;
  /** Longest side of the thumbnail in pixels; default 320. */
  maxSide?: number;
  /** JPEG quality 1-100; default 80. */
  quality?: number;
  /** Largest image decoded, in megapixels; default 50. */
  maxMegapixels?: number;
}

/** RGBA pixels. */
export interface Bitmap {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ImageError extends Error {}

/** Decodes a JPEG or PNG (chosen by its bytes) to RGBA; ImageError for anything broken or unsupported. */
export function decodeImage(bytes: Uint8Array, maxMegapixels = 50): Bitmap {
  const type = sniffType(bytes.subarray(0, 16));
  if (type === "image/jpeg") {
    try {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxMegapixels,
        maxMemoryUsageInMB: 1024,
      });
      return { width: img.width, height: img.height, data: img.data };
    } catch (error) {
      throw new ImageError(`the JPEG could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (type === "image/png") {
    // Width and height are in the IHDR chunk at bytes 16-23: refuse huge images before inflating them.
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (view.getUint32(16) * view.getUint32(20) > maxMegapixels * 1_000_000) {
        throw new ImageError(`the image is larger than ${maxMegapixels} megapixels`);
      }
    }
    let png: ReturnType<typeof decodePng>;
    try {
      png = decodePng(bytes);
    } catch (error) {
      throw new ImageError(`the PNG could not be decoded: ${error instanceof Error ? error.message : String(error)}`);
    }
    return pngToRgba(png);
  }
  throw new ImageError(`not a JPEG or PNG image (${type ?? "unknown content"})`);
}

function pngToRgba(png: ReturnType<typeof decodePng>): Bitmap {
  const { width, height, channels, depth, palette } = png;
  const src = png.data;
  const out = new Uint8Array(width * height * 4);
  if (palette) {
    if (depth !== 8) throw new ImageError(`indexed PNGs with ${depth}-bit pixels are not supported`);
    for (let i = 0; i < width * height; i++) {
      const entry = palette[src[i] as number] ?? [0, 0, 0];
      out[i * 4] = entry[0]!;
      out[i * 4 + 1] = entry[1]!;
      out[i * 4 + 2] = entry[2]!;
      out[i * 4 + 3] = entry.length > 3 ? entry[3]! : 255;
    }
    return { width, height, data: out };
  }
  if (depth !== 8 && depth !== 16) throw new ImageError(`PNGs with ${depth}-bit samples are not supported`);
  const sample = (i: number): number => (depth === 16 ? (src[i] as number) >> 8 : (src[i] as number));
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const [r, g, b, a] = channels >= 3
      ? [sample(s), sample(s + 1), sample(s + 2), channels === 4 ? sample(s + 3) : 255]
      : [sample(s), sample(s), sample(s), channels === 2 ? sample(s + 1) : 255];
    out.set([r, g, b, a], p * 4);
  }
  return { width, height, data: out };
}

/** Downscales (area average) so the longest side is at most `maxSide`, flattening transparency onto white. */
export function fitWithin(image: Bitmap, maxSide: number): Bitmap {
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const out = new Uint8Array(width * height * 4);
  const xRatio = image.width / width;
  const yRatio = image.height / height;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * yRatio);
    const y1 = Math.max(y0 + 1, Math.floor((y + 1) * yRatio));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * xRatio);
      const x1 = Math.max(x0 + 1, Math.floor((x + 1) * xRatio));
      let r = 0, g = 0, b = 0, n = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const i = (sy * image.width + sx) * 4;
          const alpha = image.data[i + 3]! / 255;
          r += image.data[i]! * alpha + 255 * (1 - alpha);
          g += image.data[i + 1]! * alpha + 255 * (1 - alpha);
          b += image.data[i + 2]! * alpha + 255 * (1 - alpha);
          n++;
        }
      }
      const o = (y * width + x) * 4;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
      out[o + 3] = 255;
    }
  }
  return { width, height, data: out };
}

/** Encodes RGBA pixels as a baseline JPEG. */
export function encodeJpeg(image: Bitmap, quality = 80): Uint8Array {
  return new Uint8Array(jpeg.encode({ width: image.width, height: image.height, data: image.data }, quality).data);
}

interface ImageRow {
  id: string;
  chat_id: string;
  bucket_id: string;
  object_path: string;
  mime_type: string;
  scan_status: string;
}

export interface ThumbnailResult {
  attachment_id: string;
  thumbnail_status: "pending" | "ready" | "failed" | "unsupported" | null;
  thumbnail_path: string | null;
  thumbnail_error: string | null;
  width: number | null;
  height: number | null;
}

export function createThumbnailHandler(deps: ThumbnailDeps): (request: Request) => Promise<Response> {
  const maxSide = deps.maxSide ?? 320;
  const record = async (id: string, status: "ready" | "failed" | "unsupported", fields: {
    path?: string; width?: number; height?: number; error?: string;
  }): Promise<Response> => {
    const [row] = await deps.sql<ThumbnailResult[]>`
      select id as attachment_id, thumbnail_status, thumbnail_path, thumbnail_error, width, height
        from private.set_attachment_thumbnail(${id}::uuid, ${status}::public.attachment_thumbnail_status,
               ${fields.path ?? null}, ${fields.width ?? null}, ${fields.height ?? null}, ${fields.error ?? null})`;
    return json(row);
  };

  return async (request) => {
    if (request.method === "OPTIONS") return preflightResponse();
    if (request.method !== "POST") return methodNotAllowed(request.method, ["POST", "OPTIONS"]);
    const denied = await requireServiceRole(request, deps.auth);
    if (denied) return denied;
    const parsed = await parseJsonBody(request, thumbnailRequestSchema);
    if (!parsed.ok) return parsed.response;
    const id = parsed.data.attachment_id;

    const [a] = await deps.sql<ImageRow[]>`
      select id, chat_id, bucket_id, object_path, mime_type, scan_status from public.attachments where id = ${id}`;
    if (!a) return errorResponse(404, "NOT_FOUND", "Attachment not found", "It may have been deleted");
    if (a.scan_status !== "clean") {
      return errorResponse(409, "NOT_CLEAN", "The attachment has not been scanned clean", "Thumbnails follow a clean scan");
    }
    if (!a.mime_type.startsWith("image/")) {
      return errorResponse(409, "NOT_AN_IMAGE", "Only images get thumbnails");
    }
    if (a.mime_type !== "image/jpeg" && a.mime_type !== "image/png") {
      return await record(id, "unsupported", { error: `thumbnails are made for JPEG and PNG, not ${a.mime_type}` });
    }
    const stream = await deps.storage.open(a.bucket_id, a.object_path);
    if (stream === null) return await record(id, "failed", { error: "the object is missing from storage" });
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());

    let image: Bitmap;
    try {
      image = decodeImage(bytes, deps.maxMegapixels);
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
      return await record(id, "failed", { error: error.message });
    }
    const thumbnail = encodeJpeg(fitWithin(image, maxSide), deps.quality ?? 80);
    const path = `${a.chat_id}/${a.id}/thumbnail/${maxSide}.jpg`;
    await deps.storage.upload(a.bucket_id, path, thumbnail, "image/jpeg");
    return await record(id, "ready", { path, width: image.width, height: image.height });
  };
}

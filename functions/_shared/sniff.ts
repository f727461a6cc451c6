// The real type of a file from its first bytes (magic numbers), and whether it fits the type the client declared.
// Used by the scan: a file whose bytes contradict its declared type, or that is a program, is never clean.

/** Types this module recognises from content. "application/x-executable" covers PE, ELF, Mach-O and scripts. */
export type SniffedType =
  | "image/jpeg" | "image/png" | "image/gif" | "image/webp"
  | "video/mp4" | "video/quicktime" | "video/webm" | "audio/mp4"
  | "audio/mpeg" | "audio/aac" | "audio/ogg" | "audio/wav" | "audio/flac"
  | "application/pdf" | "application/zip" | "application/x-ole-storage"
  | "application/x-executable" | "text/plain";

/** How many leading bytes sniffing looks at. */
export const SNIFF_BYTES = 4096;

const ascii = (bytes: Uint8Array, offset: number, text: string): boolean =>
  bytes.length >= offset + text.length && [...text].every((ch, i) => bytes[offset + i] === ch.charCodeAt(0));
const startsWith = (bytes: Uint8Array, ...values: number[]): boolean => values.every((v, i) => bytes[i] === v);

/** The type found in `head` (the first bytes of the file), or null if nothing is recognised. */
export function sniffType(head: Uint8Array): SniffedType | null {
  if (head.length === 0) return null;
  // programs first: they are refused whatever they claim to be
  if (ascii(head, 0, "MZ") || startsWith(head, 0x7f, 0x45, 0x4c, 0x46) || ascii(head, 0, "#!") ||
      startsWith(head, 0xfe, 0xed, 0xfa, 0xce) || startsWith(head, 0xfe, 0xed, 0xfa, 0xcf) ||
      startsWith(head, 0xce, 0xfa, 0xed, 0xfe) || startsWith(head, 0xcf, 0xfa, 0xed, 0xfe) ||
      startsWith(head, 0xca, 0xfe, 0xba, 0xbe)) {
    return "application/x-executable";
  }
  if (startsWith(head, 0xff, 0xd8, 0xff)) return "image/jpeg";
  if (startsWith(head, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (ascii(head, 0, "GIF87a") || ascii(head, 0, "GIF89a")) return "image/gif";
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WEBP")) return "image/webp";
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WAVE")) return "audio/wav";
  if (ascii(head, 4, "ftyp")) {
    const brand = new TextDecoder().decode(head.subarray(8, 12));
    if (brand === "qt  ") return "video/quicktime";
    if (brand.startsWith("M4A") || brand.startsWith("M4B")) return "audio/mp4";
    return "video/mp4";
  }
  if (startsWith(head, 0x1a, 0x45, 0xdf, 0xa3)) return "video/webm";
  if (ascii(head, 0, "OggS")) return "audio/ogg";
  if (ascii(head, 0, "fLaC")) return "audio/flac";
  if (ascii(head, 0, "ID3")) return "audio/mpeg";
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xf6) === 0xf0) return "audio/aac";
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) return "audio/mpeg";
  if (ascii(head, 0, "%PDF-")) return "application/pdf";
  if (startsWith(head, 0x50, 0x4b, 0x03, 0x04)) return "application/zip";
  if (startsWith(head, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return "application/x-ole-storage";
  if (looksLikeText(head)) return "text/plain";
  return null;
}

/** UTF-8 (or ASCII) without NUL and with few control characters. */
function looksLikeText(head: Uint8Array): boolean {
  // A multi-byte character may be cut at the end of the sample: drop up to 3 trailing bytes before decoding.
  for (let cut = 0; cut <= 3 && cut < head.length; cut++) {
    try {
      const text = new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(0, head.length - cut));
      const controls = [...text].filter((ch) => {
        const c = ch.charCodeAt(0);
        return c === 0 || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12);
      }).length;
      return !text.includes("\0") && controls <= text.length / 100;
    } catch {
      continue;
    }
  }
  return false;
}

const ZIP_DOCUMENTS = [
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.oasis.opendocument.text",
  "application/vnd.oasis.opendocument.spreadsheet",
  "application/vnd.oasis.opendocument.presentation",
];
const OLE_DOCUMENTS = ["application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"];

/** The sniffed types a declared type may have. */
const COMPATIBLE: Record<string, readonly SniffedType[]> = {
  "image/jpeg": ["image/jpeg"],
  "image/png": ["image/png"],
  "image/gif": ["image/gif"],
  "image/webp": ["image/webp"],
  "video/mp4": ["video/mp4", "video/quicktime"],
  "video/quicktime": ["video/quicktime", "video/mp4"],
  "video/webm": ["video/webm"],
  "audio/mpeg": ["audio/mpeg"],
  "audio/mp4": ["audio/mp4", "video/mp4"],
  "audio/aac": ["audio/aac", "audio/mp4", "video/mp4"],
  "audio/ogg": ["audio/ogg"],
  "audio/webm": ["video/webm"],
  "audio/wav": ["audio/wav"],
  "audio/flac": ["audio/flac"],
  "application/pdf": ["application/pdf"],
  "text/plain": ["text/plain"],
  "text/csv": ["text/plain"],
  ...Object.fromEntries(ZIP_DOCUMENTS.map((t) => [t, ["application/zip"] as const])),
  ...Object.fromEntries(OLE_DOCUMENTS.map((t) => [t, ["application/x-ole-storage"] as const])),
};

export type TypeCheck = { ok: true; detected: SniffedType } | { ok: false; detected: SniffedType | null; reason: string };

/** Does the content (`head`) fit the declared type? Programs never do. */
export function checkDeclaredType(declared: string, head: Uint8Array): TypeCheck {
  const detected = sniffType(head);
  if (detected === "application/x-executable") {
    return { ok: false, detected, reason: `the file is a program (declared ${declared})` };
  }
  const allowed = COMPATIBLE[declared];
  if (allowed === undefined) return { ok: false, detected, reason: `${declared} is not an allowed type` };
  if (detected === null || !allowed.includes(detected)) {
    return { ok: false, detected, reason: `declared ${declared} but the content is ${detected ?? "not recognised"}` };
  }
  return { ok: true, detected };
}

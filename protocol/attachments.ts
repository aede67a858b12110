/**
 * Attachments (附件): photos, short videos and voice notes stored by the backend, content-addressed (the id is
 * the SHA-256 of the stored bytes), uploaded with `POST /attachments` and named by id in `event.report` and
 * `event.feedback`. Limits and the types taken are here so every client checks the same before it uploads.
 */
import { z } from 'zod';

export const AttachmentKind = z.enum(['image', 'video', 'audio']);
export type AttachmentKind = z.infer<typeof AttachmentKind>;

/** The most bytes of one file, by kind (the type is sniffed from the bytes, never taken from the name). */
export const ATTACHMENT_MAX_BYTES: Readonly<Record<AttachmentKind, number>> = { image: 10 * 1024 * 1024, video: 50 * 1024 * 1024, audio: 10 * 1024 * 1024 };
/** The most bytes of a whole upload request (the file, its multipart framing and a few fields). */
export const ATTACHMENT_MAX_REQUEST_BYTES = 52 * 1024 * 1024;
/** The most attachments one report or feedback names. */
export const MAX_ATTACHMENTS_PER_ENTRY = 9;
/** The long side of a stored image (larger ones are scaled down), and of a thumbnail. */
export const ATTACHMENT_IMAGE_MAX_SIDE = 4096;
export const ATTACHMENT_THUMB_SIDE = 320;

/**
 * The types taken, by what the bytes are (as sniffed). Images are stored re-encoded (EXIF, GPS location
 * included, stripped), so a stored image is JPEG or WebP whatever was uploaded. HEIC is not taken: the image
 * library's prebuilt build decodes no HEVC.
 */
export const ATTACHMENT_TYPES: Readonly<Record<string, AttachmentKind>> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'image',
  'video/mp4': 'video',
  'video/webm': 'video',
  'video/quicktime': 'video',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/aac': 'audio',
  'audio/ogg': 'audio',
  'audio/webm': 'audio',
  'audio/wav': 'audio',
};

/** An attachment's id: the SHA-256 of its stored bytes, in lowercase hex. */
export const AttachmentId = z.string().regex(/^[0-9a-f]{64}$/, '附件编号应为 64 位十六进制 (an attachment id is 64 hex digits)');

/** What an upload answers, and what an event or a history entry carries for each of its attachments. */
export const AttachmentRef = z.object({
  id: AttachmentId,
  kind: AttachmentKind,
  mime: z.string().max(100),
  size: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  durationMs: z.number().int().nonnegative().optional(),
  /** The display name (a base name, no path, no control characters, at most 100 characters). */
  name: z.string().max(100),
  /** Whether `GET /attachments/<id>/thumb` serves a thumbnail. */
  thumb: z.boolean(),
});
export type AttachmentRef = z.infer<typeof AttachmentRef>;

/** The ids a report or a feedback names (at most 9, each once). */
export const AttachmentIds = z
  .array(AttachmentId)
  .max(MAX_ATTACHMENTS_PER_ENTRY)
  .refine((ids) => new Set(ids).size === ids.length, { message: '附件重复 (an attachment is named twice)' });

/** Where attachments are served (backend-relative). */
export const ATTACHMENTS_PATH = '/attachments';

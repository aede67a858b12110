/**
 * Size is a property of the model. An event's history (处置记录) is not part of its record: every entry is a
 * `timeline` record of its own, appended once, so a long history never makes the event's record — nor the
 * delta that carries each change to it — grow. Before this, enough long comments on one event made its record
 * larger than a wire frame and encoding the delta failed after the change was committed (a crash loop for
 * every console that asked for it again), and each comment re-sent the whole history to every console.
 *
 * What is left of an event's record is bounded by the command schemas (title 200, description 4,000
 * characters …) and by the caps below. Comments are refused past the history cap with the reason; steps of
 * the loop are never refused for size (an event must always be able to close).
 */

/** History entries an event takes comments up to. */
export const MAX_TIMELINE_ENTRIES = 2000;
/** Co-handling requests kept on one event. */
export const MAX_COHANDLING_REQUESTS = 50;
/** User ids kept in an event's `actors` (who acted on it, newest last). */
export const MAX_ACTORS = 50;
/** Extension requests (申请延期) kept on one event. */
export const MAX_EXTENSION_REQUESTS = 20;

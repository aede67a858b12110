/**
 * Records this console's side of a call — its own microphone, never the far end — with MediaRecorder (Opus at
 * 32 kbit/s, about 14 MB an hour), while the setting recordCalls is on. When the call ends its file goes up as an
 * attachment and is named in the call's log entry (stores/calls.ts), so the backend keeps it with the call. A
 * recording over the attachment limit for audio (about 40 minutes) is dropped: the call is logged without it.
 */
import { ATTACHMENT_MAX_BYTES } from '../../../protocol';

const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'];
const BITS_PER_SECOND = 32_000;
const STOP_WAIT_MS = 3000;

interface Running {
  recorder: MediaRecorder;
  chunks: Blob[];
  size: number;
  /** Settles when the recorder stopped (asked to, or its tracks ended with the call). */
  done: Promise<void>;
}

export class CallRecorder {
  private readonly running = new Map<string, Running>();

  has(id: string): boolean {
    return this.running.has(id);
  }

  /** Starts recording a call's own audio (nothing when the stream has none, or the page cannot record). */
  start(id: string, stream: MediaStream): void {
    if (this.running.has(id) || typeof MediaRecorder === 'undefined') return;
    const audio = stream.getAudioTracks().filter((t) => t.readyState === 'live');
    if (audio.length === 0) return;
    const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(new MediaStream(audio), { ...(mimeType ? { mimeType } : {}), audioBitsPerSecond: BITS_PER_SECOND });
    const run: Running = { recorder, chunks: [], size: 0, done: new Promise((resolve) => recorder.addEventListener('stop', () => resolve(), { once: true })) };
    recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size === 0 || run.size > ATTACHMENT_MAX_BYTES.audio) return;
      run.chunks.push(e.data);
      run.size += e.data.size;
    });
    recorder.start(1000);
    this.running.set(id, run);
  }

  /** Stops a call's recording: its file, or null when none was made (or it grew over the limit). */
  async stop(id: string): Promise<File | null> {
    const run = this.running.get(id);
    if (!run) return null;
    this.running.delete(id);
    if (run.recorder.state !== 'inactive') run.recorder.stop();
    // A recorder that never says it stopped must not hold the call's log entry back.
    await Promise.race([run.done, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS))]);
    if (run.size === 0 || run.size > ATTACHMENT_MAX_BYTES.audio) return null;
    const type = (run.recorder.mimeType || 'audio/webm').split(';')[0]!;
    return new File(run.chunks, `${id}.${type === 'audio/ogg' ? 'ogg' : 'webm'}`, { type });
  }

  /** Drops every recording (the phone stopped). */
  stopAll(): void {
    for (const run of this.running.values()) if (run.recorder.state !== 'inactive') run.recorder.stop();
    this.running.clear();
  }
}

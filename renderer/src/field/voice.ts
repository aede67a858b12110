/**
 * A voice note: hold the button to record (MediaRecorder on the microphone), release to stop; at most 60 s (it
 * stops by itself). The note is a Blob (webm/opus where the browser has it, else what it records) for the report.
 * What went wrong is said in the app's language.
 */
import { ref } from 'vue';
import { i18n } from './i18n';

const t = i18n.global.t;

export const VOICE_MAX_MS = 60_000;

export class VoiceRecorder {
  readonly recording = ref(false);
  readonly seconds = ref(0);
  readonly error = ref('');
  private recorder: MediaRecorder | null = null;
  private stream: MediaStream | null = null;
  private tick: ReturnType<typeof setInterval> | null = null;
  private limit: ReturnType<typeof setTimeout> | null = null;
  private releasedEarly = false;

  constructor(private readonly done: (note: Blob, ms: number) => void) {}

  async start(): Promise<void> {
    if (this.recording.value) return;
    this.error.value = '';
    this.releasedEarly = false;
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      this.error.value = t('voice.unsupported');
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      this.error.value = (e as DOMException).name === 'NotAllowedError' ? t('voice.denied') : t('voice.failed', { why: (e as Error).message });
      return;
    }
    if (this.releasedEarly) return this.release();
    const type = ['audio/webm;codecs=opus', 'audio/webm', 'audio/mp4'].find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(this.stream, type ? { mimeType: type } : {});
    const chunks: Blob[] = [];
    const started = Date.now();
    recorder.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
    recorder.onstop = () => {
      const ms = Date.now() - started;
      this.release();
      if (ms < 800) this.error.value = t('voice.tooShort');
      else this.done(new Blob(chunks, { type: recorder.mimeType || 'audio/webm' }), ms);
    };
    this.recorder = recorder;
    recorder.start(1000);
    this.recording.value = true;
    this.seconds.value = 0;
    this.tick = setInterval(() => (this.seconds.value = Math.round((Date.now() - started) / 1000)), 250);
    this.limit = setTimeout(() => this.stop(), VOICE_MAX_MS);
  }

  /** Released: the note ends (a release before the microphone opened cancels it). */
  stop(): void {
    if (!this.recorder) {
      this.releasedEarly = true;
      return;
    }
    if (this.recorder.state !== 'inactive') this.recorder.stop();
  }

  private release(): void {
    if (this.tick) clearInterval(this.tick);
    if (this.limit) clearTimeout(this.limit);
    this.tick = this.limit = null;
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.recorder = null;
    this.recording.value = false;
  }
}

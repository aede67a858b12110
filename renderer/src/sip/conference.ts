/**
 * Group calls (点对多 / 多方会商) with the console as the conference focus: the console calls every member
 * (one SIP call each, through any SIP server) and mixes the audio itself, so every member hears the
 * dispatcher and every other member; members see the dispatcher's camera, the dispatcher sees every member.
 *
 * Why here and not a media server: Kamailio is a proxy (no media), Debian's Janus videoroom works but ignores
 * loopback and is one more server for every deployment to run; a mesh makes every phone send to every other
 * phone (n² uplinks on mobile data). The console has the bandwidth and the CPU, and it is where the
 * dispatcher is. Its limit is the console's uplink: one stream per member, so groups are capped at
 * GROUP_CALL_LIMIT; bigger rooms need a conference server (FreeSWITCH mod_conference, Janus videoroom).
 */
export const GROUP_CALL_LIMIT = 8;

interface Member {
  /** What this member hears: the dispatcher and every other member. */
  mix: MediaStreamAudioDestinationNode;
  /** This member's voice, once their media arrived. */
  voice: MediaStreamAudioSourceNode | null;
}

export class ConferenceMixer {
  private readonly audio = new AudioContext();
  private readonly members = new Map<string, Member>();
  private readonly micGain: GainNode;
  private micSource: MediaStreamAudioSourceNode | null = null;
  private camera: MediaStreamTrack | null = null;

  constructor(private readonly capture: (constraints: MediaStreamConstraints) => Promise<MediaStream>) {
    this.micGain = this.audio.createGain();
  }

  /** The local stream for one member's call: their own mix, and the dispatcher's camera when video. */
  async streamFor(callId: string, constraints: MediaStreamConstraints): Promise<MediaStream> {
    await this.ensureCapture(!!constraints.video);
    void this.audio.resume();
    const mix = this.audio.createMediaStreamDestination();
    this.micGain.connect(mix);
    for (const other of this.members.values()) other.voice?.connect(mix);
    this.members.set(callId, { mix, voice: null });
    const tracks: MediaStreamTrack[] = [];
    if (constraints.audio) tracks.push(mix.stream.getAudioTracks()[0]!);
    if (constraints.video && this.camera) tracks.push(this.camera.clone());
    return new MediaStream(tracks);
  }

  /** A member's media arrived: everyone else hears them from now on. */
  addVoice(callId: string, remote: MediaStream): void {
    const member = this.members.get(callId);
    const track = remote.getAudioTracks()[0];
    if (!member || member.voice || !track) return;
    member.voice = this.audio.createMediaStreamSource(new MediaStream([track]));
    for (const [id, other] of this.members) if (id !== callId) member.voice.connect(other.mix);
  }

  remove(callId: string): void {
    const member = this.members.get(callId);
    if (!member) return;
    member.voice?.disconnect();
    this.members.delete(callId);
    if (this.members.size === 0) this.release();
  }

  /** The dispatcher's microphone into every member's mix (muting one's own voice for the whole group). */
  setMicMuted(muted: boolean): void {
    this.micGain.gain.value = muted ? 0 : 1;
  }

  get size(): number {
    return this.members.size;
  }

  private async ensureCapture(video: boolean): Promise<void> {
    if (!this.micSource) {
      const mic = await this.capture({ audio: true, video: false });
      this.micSource = this.audio.createMediaStreamSource(mic);
      this.micSource.connect(this.micGain);
    }
    if (video && !this.camera) {
      this.camera = (await this.capture({ audio: false, video: true })).getVideoTracks()[0] ?? null;
    }
  }

  private release(): void {
    this.micSource?.mediaStream.getTracks().forEach((t) => t.stop());
    this.micSource?.disconnect();
    this.micSource = null;
    this.camera?.stop();
    this.camera = null;
  }

  close(): void {
    for (const id of [...this.members.keys()]) this.remove(id);
    this.release();
    void this.audio.close();
  }
}

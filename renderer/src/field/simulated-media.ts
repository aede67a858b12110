/**
 * Media for the simulated field staff: a generated picture (the staff member's name, the time, a moving bar
 * so frames visibly change) and a quiet tone, as real MediaStream tracks (canvas capture, WebAudio), so calls
 * to simulated staff carry real audio and video.
 */
import { clock, i18n } from './i18n';
export function simulatedMedia(name: string, constraints: MediaStreamConstraints): MediaStream {
  const stream = new MediaStream();
  if (constraints.audio) {
    const audio = new AudioContext();
    const oscillator = audio.createOscillator();
    oscillator.frequency.value = 440;
    const gain = audio.createGain();
    gain.gain.value = 0.05;
    const destination = audio.createMediaStreamDestination();
    oscillator.connect(gain).connect(destination);
    oscillator.start();
    const track = destination.stream.getAudioTracks()[0]!;
    onStop(track, () => void audio.close());
    stream.addTrack(track);
  }
  if (constraints.video) {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const context = canvas.getContext('2d')!;
    const track = canvas.captureStream(15).getVideoTracks()[0]!;
    let frame = 0;
    const timer = setInterval(() => {
      frame++;
      context.fillStyle = '#12314d';
      context.fillRect(0, 0, 640, 360);
      context.fillStyle = '#2f7fd1';
      context.fillRect((frame * 8) % 640, 300, 80, 20);
      context.fillStyle = '#ffffff';
      context.font = 'bold 40px "Noto Sans CJK SC", sans-serif';
      context.fillText(name, 32, 90);
      context.font = '28px "Noto Sans CJK SC", sans-serif';
      context.fillText(i18n.global.t('simulated.caption', { time: clock(Date.now()) }), 32, 150);
    }, 1000 / 15);
    onStop(track, () => clearInterval(timer));
    stream.addTrack(track);
  }
  return stream;
}

/** A locally stopped track fires no 'ended' event: the generator is released when the call stops the track. */
function onStop(track: MediaStreamTrack, release: () => void): void {
  const stop = track.stop.bind(track);
  track.stop = () => {
    stop();
    release();
  };
}

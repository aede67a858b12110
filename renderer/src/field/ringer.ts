/** The ring of an incoming call on the phone: an 880 Hz beep every half second and a vibration. */
export interface Ringer {
  stop(): void;
}

export function startRinger(): Ringer {
  const audio = new AudioContext();
  const gain = audio.createGain();
  gain.gain.value = 0;
  const oscillator = audio.createOscillator();
  oscillator.frequency.value = 880;
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start();
  const timer = setInterval(() => (gain.gain.value = gain.gain.value > 0 ? 0 : 0.15), 500);
  navigator.vibrate?.([400, 300, 400]);
  return { stop: () => (clearInterval(timer), void audio.close()) };
}

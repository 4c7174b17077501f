// The scale of each audio feature as the page shows it: the song's bars and the target sliders.

// Spotify's audio features: ratios in 0..1 unless listed here, in their own units.
const SCALES = {
  loudness: { min: -60, max: 0, step: 0.1, unit: 'dB', show: (v) => `${v.toFixed(1)} dB` },
  tempo: { min: 0, max: 250, step: 1, unit: 'BPM', show: (v) => `${Math.round(v)} BPM` },
  key: { min: 0, max: 11, step: 1, show: (v) => String(Math.round(v)) },
  mode: { min: 0, max: 1, step: 1, show: (v) => (v >= 0.5 ? 'major' : 'minor') },
  popularity: { min: 0, max: 100, step: 1, show: (v) => String(Math.round(v)) },
  year: { min: 1920, max: 2030, step: 1, show: (v) => String(Math.round(v)) },
  duration_ms: {
    min: 0, max: 600000, step: 1000, unit: 'ms',
    show: (v) => `${Math.floor(v / 60000)}:${String(Math.round(v / 1000) % 60).padStart(2, '0')}`,
  },
};
const RATIO = { min: 0, max: 1, step: 0.01, show: (v) => v.toFixed(2) };

export function featureScale(name) {
  return SCALES[name] || RATIO;
}

export const featureLabel = (name) => name.replace(/_/g, ' ');

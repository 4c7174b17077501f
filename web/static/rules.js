// The controls an answer applied (its `constraints`), as short phrases for one line.

import { featureLabel, featureScale } from './features.js';

// The values as the request gave them, to three significant digits: a bound of 0.001 must
// not read as 0.00.
const number = (value) => String(Number(Number(value).toPrecision(3)));
const unitOf = (name) => (featureScale(name).unit ? ` ${featureScale(name).unit}` : '');
const show = (name, value) => `${number(value)}${unitOf(name)}`;
// A range's two ends share the unit: "tempo 100–125 BPM".
const span = (name, low, high) => `${number(low)}–${number(high)}${unitOf(name)}`;
const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function featurePhrases(constraints) {
  const ranges = new Map(); // feature -> [min, max]
  const phrases = [];
  for (const [key, value] of Object.entries(constraints)) {
    const match = /^(target|min|max)_(.+)$/.exec(key);
    if (!match || key === 'max_per_artist') continue;
    const [, kind, name] = match;
    if (kind === 'target') phrases.push(`${featureLabel(name)} → ${show(name, value)}`);
    else (ranges.get(name) || ranges.set(name, [null, null]).get(name))[kind === 'max' ? 1 : 0] = value;
  }
  for (const [name, [low, high]] of ranges) {
    const label = featureLabel(name);
    if (low != null && high != null) phrases.push(`${label} ${span(name, low, high)}`);
    else if (low != null) phrases.push(`${label} ≥ ${show(name, low)}`);
    else phrases.push(`${label} ≤ ${show(name, high)}`);
  }
  return phrases;
}

export function describeConstraints(constraints) {
  const c = constraints || {};
  const phrases = [];
  if (c.seed_track_ids) phrases.push(`${c.seed_track_ids.length + 1} seeds${c.seed_weights ? ', weighted' : ''}`);
  phrases.push(...featurePhrases(c));
  if (c.max_per_artist != null) phrases.push(c.max_per_artist === 0 ? 'no artist cap' : `≤ ${c.max_per_artist} per artist`);
  if (c.diversity) phrases.push(`diversity ${Number(c.diversity).toFixed(2)}`);
  if (c.pool) phrases.push(`pool ${c.pool}`);
  if (c.explicit === false) phrases.push('no explicit songs');
  if (c.exclude_track_ids) phrases.push(count(c.exclude_track_ids.length, 'song excluded', 'songs excluded'));
  if (c.exclude_artists) phrases.push(count(c.exclude_artists.length, 'artist excluded', 'artists excluded'));
  if (c.explain) phrases.push('explained');
  return phrases;
}

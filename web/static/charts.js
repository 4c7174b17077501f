// Small SVG charts: a song's audio features as bars, precision@k per model as lines.

import { s } from './dom.js';
import { featureLabel, featureScale } from './features.js';
import { modelColour } from './palette.js';

const clamp01 = (v) => Math.max(0, Math.min(1, v));

export function featureBars(features) {
  const names = Object.keys(features);
  const row = 19;
  const width = 300;
  const labelW = 112;
  const barW = 120;
  const svg = s('svg', {
    class: 'feature-bars', viewBox: `0 0 ${width} ${names.length * row + 4}`,
    role: 'img', 'aria-label': 'Audio features of the chosen song',
  });
  names.forEach((name, i) => {
    const value = Number(features[name]);
    const scale = featureScale(name); // features outside [0, 1] on their own scale
    const share = clamp01((value - scale.min) / (scale.max - scale.min));
    const y = i * row + 2;
    svg.append(s('g', {},
      s('title', {}, `${name}: ${value}`),
      s('text', { x: labelW - 8, y: y + 13, class: 'bar-label', 'text-anchor': 'end' }, featureLabel(name)),
      s('rect', { x: labelW, y: y + 4, width: barW, height: 11, rx: 3, class: 'bar-track' }),
      s('rect', { x: labelW, y: y + 4, width: Math.max(1.5, share * barW), height: 11, rx: 3, class: 'bar' }),
      s('text', { x: labelW + barW + 8, y: y + 13, class: 'bar-value' }, scale.show(value)),
    ));
  });
  return svg;
}

function niceMax(max) {
  const step = max <= 0.3 ? 0.05 : 0.1;
  return { top: Math.max(step, Math.ceil((max + 1e-9) / step) * step), step };
}

// series: [[modelName, [p@1, ..., p@k]], ...]
export function precisionChart(series) {
  const width = 560;
  const height = 250;
  const m = { left: 44, right: 130, top: 12, bottom: 36 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const k = Math.max(1, ...series.map(([, values]) => values.length));
  const all = series.flatMap(([, values]) => values).filter(Number.isFinite);
  const { top, step } = niceMax(Math.max(0, ...all));
  const x = (i) => m.left + (k === 1 ? plotW / 2 : (i / (k - 1)) * plotW);
  const y = (v) => m.top + plotH - (v / top) * plotH;

  const svg = s('svg', { class: 'line-chart', viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true' });
  for (let v = 0; v <= top + 1e-9; v += step) {
    svg.append(
      s('line', { x1: m.left, x2: m.left + plotW, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: m.left - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, v.toFixed(2)),
    );
  }
  const every = k > 20 ? Math.ceil(k / 10) : 1;
  for (let i = 0; i < k; i += 1) {
    if ((i + 1) % every && i !== 0) continue;
    svg.append(s('text', { x: x(i), y: m.top + plotH + 16, class: 'axis', 'text-anchor': 'middle' }, String(i + 1)));
  }
  svg.append(s('text', { x: m.left + plotW / 2, y: height - 4, class: 'axis', 'text-anchor': 'middle' }, 'k'));

  series.forEach(([name, values], index) => {
    const colour = modelColour(index);
    const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(s('polyline', { points, class: 'series', stroke: colour }));
    values.forEach((v, i) => svg.append(s('circle', { cx: x(i), cy: y(v), r: 3, fill: colour },
      s('title', {}, `${name}: precision@${i + 1} = ${v.toFixed(3)}`))));
    const ly = m.top + 10 + index * 20;
    svg.append(
      s('line', { x1: width - m.right + 12, x2: width - m.right + 30, y1: ly, y2: ly, stroke: colour, class: 'series' }),
      s('text', { x: width - m.right + 36, y: ly + 4, class: 'legend' }, name),
    );
  });
  return svg;
}

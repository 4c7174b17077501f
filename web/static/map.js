// The latent map: catalog songs as points on a canvas, coloured by cluster; pick by click.

import { clusterColour } from './palette.js';

const PAD = 12; // css px kept free around the points so edge points stay whole
const PICK_RADIUS = 7; // css px

export class LatentMap {
  constructor(canvas, { onPick, onHover }) {
    this.canvas = canvas;
    this.onPick = onPick;
    this.onHover = onHover;
    this.points = [];
    this.byId = new Map();
    this.seedId = null;
    this.recIds = [];
    this.focusCluster = null;
    this.hovered = null;
    this.size = { w: 0, h: 0, dpr: 1 };
    new ResizeObserver(() => this.draw()).observe(canvas);
    this.watchPixelRatio();
    canvas.addEventListener('click', (e) => {
      const p = this.pointAt(e);
      if (p) this.onPick(p);
    });
    canvas.addEventListener('mousemove', (e) => this.hover(this.pointAt(e)));
    canvas.addEventListener('mouseleave', () => this.hover(null));
  }

  // A window moved to another screen or a zoom changes the ratio without resizing in css px.
  watchPixelRatio() {
    const query = matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    query.addEventListener('change', () => { this.draw(); this.watchPixelRatio(); }, { once: true });
  }

  setPoints(points) {
    this.points = points;
    this.byId = new Map(points.map((p) => [p.track_id, p]));
    this.hover(null);
    this.draw();
  }

  // Points from another answer of the same projection (the map is a sample): added, not moved.
  addPoints(points) {
    const fresh = points.filter((p) => !this.byId.has(p.track_id));
    if (!fresh.length) return;
    this.points = [...this.points, ...fresh];
    for (const p of fresh) this.byId.set(p.track_id, p);
    this.draw();
  }

  setHighlight(seedId, recIds) {
    this.seedId = seedId;
    this.recIds = recIds;
    this.draw();
  }

  setFocusCluster(cluster) {
    this.focusCluster = cluster;
    this.draw();
  }

  // How many of the given ids are among the map's points (the map is a sample).
  countShown(ids) {
    return ids.filter((id) => this.byId.has(id)).length;
  }

  fit() {
    const dpr = window.devicePixelRatio || 1;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
    }
    this.size = { w, h, dpr };
  }

  toScreen(p) {
    const { w, h } = this.size;
    return [PAD + p.x * (w - 2 * PAD), PAD + (1 - p.y) * (h - 2 * PAD)];
  }

  pointAt(event) {
    const rect = this.canvas.getBoundingClientRect();
    const mx = event.clientX - rect.left;
    const my = event.clientY - rect.top;
    let best = null;
    let bestD = PICK_RADIUS * PICK_RADIUS;
    for (const p of this.points) {
      const [x, y] = this.toScreen(p);
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d <= bestD) { best = p; bestD = d; }
    }
    return best;
  }

  hover(point) {
    if (point === this.hovered) return;
    this.canvas.style.cursor = point ? 'pointer' : '';
    this.hovered = point;
    this.draw();
    this.onHover(point, point ? this.toScreen(point) : null);
  }

  draw() {
    this.fit();
    const { w, h, dpr } = this.size;
    if (!w || !h) return;
    const ctx = this.canvas.getContext('2d');
    const css = getComputedStyle(this.canvas);
    const outline = css.getPropertyValue('--map-outline').trim() || '#111';
    const ring = css.getPropertyValue('--map-ring').trim() || '#000';
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = css.getPropertyValue('--map-bg').trim() || '#fff';
    ctx.fillRect(0, 0, w, h);

    const highlighted = this.seedId !== null;
    const byCluster = new Map();
    for (const p of this.points) {
      if (!byCluster.has(p.cluster)) byCluster.set(p.cluster, []);
      byCluster.get(p.cluster).push(p);
    }
    const radius = Math.max(1.6, Math.min(2.6, Math.sqrt((w * h) / Math.max(1, this.points.length)) / 5));
    for (const [cluster, points] of byCluster) {
      const dimmed = this.focusCluster !== null && cluster !== this.focusCluster;
      ctx.globalAlpha = dimmed ? 0.12 : (highlighted ? 0.4 : 0.8);
      ctx.fillStyle = clusterColour(cluster);
      ctx.beginPath();
      for (const p of points) {
        const [x, y] = this.toScreen(p);
        ctx.moveTo(x + radius, y);
        ctx.arc(x, y, radius, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    this.drawHighlights(ctx, outline, ring);
    if (this.hovered) this.dot(ctx, this.hovered, 5, outline, 1.5);
  }

  drawHighlights(ctx, outline, ring) {
    const seed = this.byId.get(this.seedId);
    const recs = this.recIds.map((id) => this.byId.get(id)).filter(Boolean);
    if (seed) {
      const [sx, sy] = this.toScreen(seed);
      ctx.strokeStyle = ring;
      ctx.globalAlpha = 0.35;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const r of recs) {
        const [x, y] = this.toScreen(r);
        ctx.moveTo(sx, sy);
        ctx.lineTo(x, y);
      }
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    for (const r of recs) this.dot(ctx, r, 5, outline, 1.5);
    if (seed) {
      this.dot(ctx, seed, 7.5, outline, 2);
      const [x, y] = this.toScreen(seed);
      ctx.strokeStyle = ring;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 12, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  dot(ctx, p, r, outline, lineWidth) {
    const [x, y] = this.toScreen(p);
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = clusterColour(p.cluster);
    ctx.fill();
    ctx.lineWidth = lineWidth;
    ctx.strokeStyle = outline;
    ctx.stroke();
  }
}

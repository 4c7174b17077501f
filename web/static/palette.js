// One cluster palette for the map, the clusters table and the recommendation dots.

const CLUSTER_COLOURS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#17becf',
  '#a0cbe8', '#8cd17d', '#ffbe7d', '#d37295', '#499894', '#86bcb6',
];

const NO_CLUSTER = '#9aa0a6';

export function clusterColour(cluster) {
  if (cluster == null || cluster < 0) return NO_CLUSTER;
  return CLUSTER_COLOURS[cluster % CLUSTER_COLOURS.length];
}

// Model lines in the evaluation chart: distinct from each other, not tied to clusters.
const MODEL_COLOURS = ['#4e79a7', '#e15759', '#59a14f', '#b07aa1', '#f28e2b', '#17becf', '#9c755f'];

export function modelColour(index) {
  return MODEL_COLOURS[index % MODEL_COLOURS.length];
}

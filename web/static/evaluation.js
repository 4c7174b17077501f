// The evaluation section: the latest report as a chart, and running a new evaluation.

import { api } from './api.js';
import { precisionChart } from './charts.js';
import { byId, h, showError, clearError } from './dom.js';

const POLL_MS = 500;
const QUERIES = 500;
const MAX_POLL_FAILURES = 5;
// Metric names as the report keys them, as a reader knows them.
const METRIC_NAMES = { mrr: 'MRR', ndcg_at_k: 'nDCG@k' };
const metricName = (key) => METRIC_NAMES[key] || key.replace(/_/g, ' ');
const NO_LABELS = 'No label column is known yet: the catalog\'s songs show none. '
  + 'Labels (such as a genre) are what an evaluation scores against.';

export function setupEvaluation({ getK }) {
  const chart = byId('evaluation-chart');
  const table = byId('evaluation-table');
  const summary = byId('evaluation-summary');
  const select = byId('label-column');
  const button = byId('evaluate');
  const wrap = byId('evaluate-wrap');
  const hint = byId('evaluate-hint');
  const progress = byId('evaluation-progress');
  const errorEl = byId('evaluation-error');
  const columns = new Set();
  let running = null; // id of the evaluation being watched

  function updateButton() {
    const none = columns.size === 0;
    button.disabled = none || running !== null;
    button.textContent = running ? 'Evaluating…' : 'Evaluate models';
    const why = none ? NO_LABELS : '';
    button.title = why;
    wrap.title = why; // a disabled button shows no tooltip of its own in some browsers
    hint.textContent = none ? why : running ? '' : `Scores every model on ${QUERIES} seed songs by their ${select.value}.`;
  }

  function addLabelColumns(names) {
    let added = false;
    for (const name of names) {
      if (typeof name !== 'string' || !name || columns.has(name)) continue;
      if (columns.size === 0) select.replaceChildren();
      columns.add(name);
      select.append(h('option', { value: name }, name));
      added = true;
    }
    if (added) {
      select.disabled = false;
      updateButton();
    }
  }

  function renderReport(evaluation) {
    const report = evaluation.report || {};
    const models = Object.entries(report.models || {});
    const series = models
      .filter(([, m]) => Array.isArray(m.precision_at_k) && m.precision_at_k.length)
      .map(([name, m]) => [name, m.precision_at_k.map(Number)]);
    if (report.label_column) addLabelColumns([report.label_column]);
    if (!series.length) {
      chart.replaceChildren(h('p', { class: 'placeholder' }, 'The latest report has no precision@k.'));
      table.replaceChildren();
      return;
    }
    chart.replaceChildren(precisionChart(series));
    chart.setAttribute('aria-label', 'Precision at k per model: ' + series
      .map(([name, p]) => `${name} ${p[p.length - 1].toFixed(3)} at k=${p.length}`).join(', '));
    const scalars = [...new Set(models.flatMap(([, m]) => Object.keys(m)
      .filter((key) => typeof m[key] === 'number')))].slice(0, 4);
    table.replaceChildren(h('table', { class: 'metrics' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'model'),
        h('th', { scope: 'col', class: 'num' }, 'P@1'),
        h('th', { scope: 'col', class: 'num' }, `P@${Math.max(...series.map(([, p]) => p.length))}`),
        scalars.map((key) => h('th', { scope: 'col', class: 'num' }, metricName(key))))),
      h('tbody', {}, models.map(([name, m]) => {
        const p = Array.isArray(m.precision_at_k) ? m.precision_at_k : [];
        const cell = (v) => h('td', { class: 'num' }, typeof v === 'number' ? v.toFixed(3) : '–');
        return h('tr', {}, h('th', { scope: 'row' }, name), cell(p[0]), cell(p[p.length - 1]),
          scalars.map((key) => cell(m[key])));
      }))));
    const facts = [
      report.label_column && `labels: ${report.label_column}`,
      report.k && `k = ${report.k}`,
      report.queries && `${report.queries} queries`,
      `evaluation ${evaluation.id}`,
    ].filter(Boolean);
    summary.textContent = facts.join(' · ');
  }

  function showProgress(evaluation) {
    progress.hidden = false;
    progress.value = Math.max(0, Math.min(1, Number(evaluation.progress) || 0));
    progress.textContent = `${Math.round(progress.value * 100)} %`;
    hint.textContent = `Evaluation ${evaluation.id}: ${evaluation.state}, ${Math.round(progress.value * 100)} %`;
  }

  function finish(evaluation, error) {
    running = null;
    updateButton();
    if (error) showError(errorEl, error);
    if (evaluation && evaluation.state === 'done') {
      progress.value = 1;
      renderReport(evaluation);
      hint.textContent = `Evaluation ${evaluation.id} done.`;
    }
  }

  function watch(id) {
    running = id;
    updateButton();
    let failures = 0;
    const poll = async () => {
      if (running !== id) return;
      try {
        const evaluation = await api.evaluation(id);
        failures = 0;
        showProgress(evaluation);
        if (evaluation.state === 'done') return finish(evaluation);
        if (evaluation.state === 'failed') {
          return finish(evaluation, new Error(`The evaluation failed: ${evaluation.error || 'no reason given'}`));
        }
      } catch (err) {
        failures += 1;
        if (err.status === 404 || failures >= MAX_POLL_FAILURES) return finish(null, err);
      }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  async function start(event) {
    event.preventDefault();
    if (button.disabled || !select.value) return;
    clearError(errorEl);
    button.disabled = true;
    try {
      const accepted = await api.startEvaluation({ label_column: select.value, k: getK(), queries: QUERIES });
      showProgress({ id: accepted.id, state: accepted.state || 'queued', progress: 0 });
      watch(accepted.id);
    } catch (err) {
      showError(errorEl, err);
      updateButton();
    }
  }

  async function load() {
    clearError(errorEl);
    try {
      const { items = [] } = await api.evaluations();
      const latestDone = items.find((e) => e.state === 'done' && e.report);
      if (latestDone) renderReport(latestDone);
      const current = items.find((e) => e.state === 'queued' || e.state === 'running');
      if (current && running === null) {
        showProgress(current);
        watch(current.id);
      }
    } catch (err) {
      showError(errorEl, err, load);
    }
  }

  byId('evaluation-form').addEventListener('submit', start);
  select.addEventListener('change', updateButton);
  updateButton();
  return { addLabelColumns, load };
}

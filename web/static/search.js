// The search box: a combobox over GET /v1/tracks, debounced, keyboard and mouse.

import { api } from './api.js';
import { h, debounce, showError, clearError } from './dom.js';

const LIMIT = 20;
const DEBOUNCE_MS = 120;

export function setupSearch({ input, list, errorEl, onChoose }) {
  let items = [];
  let itemsQuery = null; // the query items answer
  let active = -1;
  let controller = null;

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function setActive(index) {
    const options = list.querySelectorAll('[role="option"]');
    options.forEach((o, i) => o.setAttribute('aria-selected', String(i === index)));
    active = index;
    if (index >= 0 && options[index]) {
      input.setAttribute('aria-activedescendant', options[index].id);
      options[index].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function choose(index) {
    const item = items[index];
    if (!item) return;
    debounced.cancel();
    close();
    onChoose(item);
  }

  function render(query) {
    list.replaceChildren();
    if (!items.length) {
      list.append(h('li', { class: 'empty', role: 'presentation' }, `No songs match “${query}”.`));
    }
    items.forEach((item, i) => list.append(h('li', {
      id: `search-option-${i}`, role: 'option', 'aria-selected': 'false', dataset: { trackId: item.track_id },
      onmousedown: (e) => e.preventDefault(), // keep focus in the input
      onclick: () => choose(i),
      onmousemove: () => { if (active !== i) setActive(i); },
    }, h('span', { class: 'name' }, item.track_name), h('span', { class: 'sep' }, ' — '),
    h('span', { class: 'artist' }, item.artist))));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    setActive(-1);
  }

  async function run({ chooseFirst = false } = {}) {
    const query = input.value.trim();
    if (controller) controller.abort();
    if (!query) {
      items = [];
      itemsQuery = null;
      close();
      clearError(errorEl);
      return;
    }
    controller = new AbortController();
    try {
      const answer = await api.searchTracks(query, LIMIT, controller.signal);
      if (query !== input.value.trim()) return; // typed on meanwhile
      items = answer.items || [];
      itemsQuery = query;
      clearError(errorEl);
      if (chooseFirst && items.length) choose(0);
      else render(query);
    } catch (err) {
      if (err.name === 'AbortError') return;
      items = [];
      itemsQuery = null;
      close();
      showError(errorEl, err, () => run());
    }
  }

  const debounced = debounce(() => run(), DEBOUNCE_MS);
  const current = () => itemsQuery !== null && itemsQuery === input.value.trim();
  input.addEventListener('input', debounced);
  input.addEventListener('focus', () => { if (current()) render(itemsQuery); });
  input.addEventListener('blur', () => setTimeout(close, 0));
  input.addEventListener('keydown', (e) => {
    const open = !list.hidden && items.length > 0 && current();
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!current()) return;
      if (!open) render(itemsQuery);
      setActive(Math.min(active + 1, items.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (open) setActive(Math.max(active - 1, 0));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      // Enter before the debounced search answered: search now and take the best match.
      if (open) choose(active >= 0 ? active : 0);
      else if (current() && items.length) choose(0);
      else run({ chooseFirst: true });
    } else if (e.key === 'Escape') {
      if (open) { e.preventDefault(); close(); }
    }
  });
}

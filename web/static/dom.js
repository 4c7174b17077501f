// Small DOM helpers: element building (text only, never HTML), inline errors, number formats.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'style') el.style.cssText = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value != null) el.setAttribute(key, value);
  }
  el.append(...children.flat().filter((c) => c != null));
  return el;
}

export function byId(id) {
  return document.getElementById(id);
}

export function errorText(err) {
  if (!err) return 'Something went wrong.';
  return err.detail || err.message || String(err);
}

// Shows err in an inline error element; retry, when given, adds a "try again" button.
export function showError(el, err, retry) {
  const message = errorText(err);
  if (!el.hidden && !retry && el.dataset.message === message) return; // not announced again
  el.dataset.message = message;
  el.replaceChildren(message);
  if (retry) {
    el.append(' ', h('button', {
      type: 'button', class: 'link', onclick: () => { clearError(el); retry(); },
    }, 'try again'));
  }
  el.hidden = false;
}

export function clearError(el) {
  el.hidden = true;
  el.dataset.message = '';
  el.replaceChildren();
}

const integer = new Intl.NumberFormat('en');
const oneDecimal = new Intl.NumberFormat('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const fmt = {
  int: (n) => integer.format(n),
  rate: (n) => oneDecimal.format(n),
  score: (n) => Number(n).toFixed(3),
  pct: (share) => `${Math.round(share * 100)} %`,
  ms: (n) => `${Math.round(n)} ms`,
};

export function debounce(fn, ms) {
  let timer = 0;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

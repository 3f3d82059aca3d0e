// Building the page: elements and text nodes only. Text from instances (titles, message
// bodies, reasons, names) only ever becomes a text node or an attribute value, so it can
// never be markup: nothing here hands text to the HTML parser. (The static/*.js files are
// joined, in order, into one script inside one function by gitcoord/board/page.py.)

// What a terminal would obey and a reader would be fooled by (C0 and C1 controls,
// zero-width and bidi marks): shown as \uXXXX, as `coord`'s own text output does.
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g;

function escaped(ch) {
  return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

function clean(value, multiline) {
  return String(value).replace(multiline ? UNSAFE_TEXT : UNSAFE_LINE, escaped);
}

// A text node for multi-line text (a message body): newlines kept, other controls shown.
function body(value) {
  return h('div', { class: 'body' }, document.createTextNode(clean(value, true)));
}

function append(el, kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(clean(kid)));
  }
  return el;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (key.startsWith('on')) throw new Error('event handlers are functions, never text: ' + key);
    else el.setAttribute(key, value === true ? '' : clean(value));
  }
}

function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  setProps(el, props);
  return append(el, kids);
}

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, props, ...kids) {
  const el = document.createElementNS(SVG, tag);
  setProps(el, props);
  return append(el, kids);
}

// Statuses and levels come from closed sets; anything else is drawn as "unknown" rather
// than trusted as a class name.
function token(value) {
  return /^[a-z_-]{1,40}$/.test(String(value)) ? String(value) : 'unknown';
}

function hours(value) {
  if (value === null || value === undefined) return '?';
  if (value < 1) return Math.max(0, Math.round(value * 60)) + ' min';
  if (value < 10) return value.toFixed(1) + ' h';
  if (value < 72) return Math.round(value) + ' h';
  return Math.round(value / 24) + ' days';
}

function when(stamp) {
  return stamp ? String(stamp).replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : 'never';
}

function short(text, limit) {
  const flat = clean(text).replace(/\s+/g, ' ');
  return flat.length <= limit ? flat : flat.slice(0, limit - 1) + '…';
}

// A POSIX shell word, for the command lines the page offers to copy.
function shellQuote(text) {
  return /^[A-Za-z0-9_.,:\/@%+=-]+$/.test(text) ? text : "'" + String(text).replace(/'/g, "'\\''") + "'";
}

function section(title, count, ...kids) {
  const label = count === null || count === undefined ? null : h('span', { class: 'count' }, String(count));
  return h('section', {}, h('h2', {}, title, label), ...kids);
}

function badge(text, kind) {
  return h('span', { class: 'badge ' + token(kind || '') }, text);
}

function empty(text) {
  return h('p', { class: 'empty' }, text);
}

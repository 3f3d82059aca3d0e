// Drawing the page, and in a served page keeping it current: poll the cheap tip endpoint,
// fetch the board again when the coordination branch moved (and each minute, for the ages),
// and send the human coordinator's actions with the page's CSRF token.

const POLL_MS = 2000;
const REFRESH_MS = 60000;
const live = { csrf: '', notice: null, timer: 0, fetched: 0, failures: 0, problem: '', state: 'live', ok: true };

function redraw(focusKey) {
  const active = document.activeElement;
  const focus = focusKey || (active && active.dataset ? active.dataset.focus : null);
  const caret = active && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
  const scroll = [window.scrollX, window.scrollY];
  const data = view.data;
  document.getElementById('app').replaceChildren(
    header(data),
    h('main', {},
      view.mode === 'served' ? null : staticNotice(data),
      live.notice,
      escalations(data),
      h('div', { class: 'grid2' }, consultations(data), decisions(data)),
      board(data),
      dependencies(data),
      h('div', { class: 'grid2' }, instances(data), holdings(data)),
      findings(data)));
  window.scrollTo(scroll[0], scroll[1]);
  const again = focus ? document.querySelector('[data-focus="' + CSS.escape(focus) + '"]') : null;
  if (again) {
    again.focus({ preventScroll: true });
    if (caret && !focusKey && typeof again.setSelectionRange === 'function') again.setSelectionRange(caret[0], caret[1]);
  }
  document.body.dataset.commit = data.commit || '';
}

function notify(text, kind) {
  const role = kind === 'error' ? 'alert' : 'status';
  live.notice = text
    ? h('p', { class: 'notice ' + token(kind), role: role, id: 'notice' }, document.createTextNode(clean(text, true)))
    : null;
  redraw();
}

function setLive(text, ok) {
  live.state = text;
  live.ok = ok;
  const el = document.getElementById('live');
  if (el) {
    el.textContent = text;
    el.className = 'badge ' + (ok ? 'live' : 'off');
  }
}

async function getJson(path) {
  const response = await fetch(path, {
    cache: 'no-store',
    credentials: 'same-origin',
    headers: { 'X-Coord-Board-Token': live.csrf },
  });
  if (response.status === 403) throw new Error('session');
  if (!response.ok) {
    // The server says what is wrong (e.g. a store that does not validate at the tip).
    const answer = await response.json().catch(() => ({}));
    const err = new Error(answer.error || 'the server answered HTTP ' + response.status);
    err.fromServer = true;
    throw err;
  }
  return response.json();
}

async function reload() {
  view.data = await getJson('/api/board');
  live.fetched = Date.now();
  redraw();
}

async function poll() {
  try {
    const tip = await getJson('/api/tip');
    if (tip.commit !== view.data.commit || Date.now() - live.fetched > REFRESH_MS) await reload();
    live.failures = 0;
    live.problem = '';
    setLive('live', true);
  } catch (err) {
    if (err.message === 'session') {
      setLive('session ended', false);
      notify('This board no longer accepts this page (the server was restarted?): open the URL `coord board --serve` printed.', 'error');
      return;
    }
    live.failures += 1;
    setLive(err.fromServer ? 'error' : 'disconnected', false);
    if (err.fromServer && err.message !== live.problem) {
      live.problem = err.message;
      notify(err.message, 'error');
    }
  }
  // Back off while the server is away, so a stopped board costs the browser nothing.
  live.timer = setTimeout(poll, POLL_MS * Math.min(1 + live.failures, 15));
}

async function act(request, form, error, draftKey) {
  for (const b of form.querySelectorAll('button')) b.disabled = true;
  error.textContent = '';
  let answer;
  try {
    const response = await fetch('/api/action', {
      method: 'POST', cache: 'no-store', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Coord-Board-Token': live.csrf },
      body: JSON.stringify(request),
    });
    answer = await response.json().catch(() => ({ ok: false, error: 'the server answered HTTP ' + response.status }));
  } catch (err) {
    answer = { ok: false, error: 'the board server cannot be reached: ' + err.message };
  }
  if (!answer.ok) {
    for (const b of form.querySelectorAll('button')) b.disabled = false;
    error.textContent = clean(answer.error, true);
    return;
  }
  view.drafts.delete(draftKey);
  live.notice = h('p', { class: 'notice done', role: 'status', id: 'notice' },
    'Done: ' + clean(answer.summary) + (answer.commit ? ' (' + answer.commit.slice(0, 12) + ')' : ''),
    (answer.notes || []).map((note) => h('div', {}, 'note: ' + clean(note))),
    answer.warning ? h('div', { class: 'form-error' }, answer.warning) : null);
  await reload().catch(() => redraw());
}

function start() {
  const config = JSON.parse(document.getElementById('board-config').textContent);
  view.mode = config.mode;
  live.csrf = config.csrf || '';
  view.data = JSON.parse(document.getElementById('board-data').textContent);
  live.fetched = Date.now();
  redraw();
  if (view.mode === 'served') {
    // The access token stays in the address: a reload needs it, as the cookie alone (which
    // every server on 127.0.0.1 is sent) does not serve the page.
    live.timer = setTimeout(poll, POLL_MS);
  }
}

start();

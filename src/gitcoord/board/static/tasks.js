// The task board, the dependency graph, the instances, who holds what, and the health findings.

const VERBS = { release: 'Release', cancel: 'Cancel' };

function holderLine(t) {
  if (t.status === 'completed') return t.assigned_to ? 'completed by ' + clean(t.assigned_to) : 'completed';
  if (t.status === 'cancelled') return 'cancelled';
  if (t.status === 'offered') return 'offered to ' + clean(t.assigned_to) + ' since ' + when(t.assigned_at);
  if (t.assigned_to) {
    const since = t.assigned_at ? ' since ' + when(t.assigned_at) + ' (' + hours(t.held_hours) + ')' : ' (since: not recorded)';
    return 'held by ' + clean(t.assigned_to) + since;
  }
  if (t.ready) return 'ready to take';
  return t.waiting_on.length ? 'after ' + t.waiting_on.join(', ') : '';
}

function taskForm(t, action, human) {
  const key = action + ':' + t.task_id;
  const d = draft(key, { open: false, reason: '' });
  if (!d.open) {
    return h('button', { type: 'button', class: action === 'cancel' ? 'danger' : null, 'data-action': action,
      onclick: () => { d.open = true; redraw(key + ':reason'); } }, VERBS[action] + '…');
  }
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'act', onsubmit: (ev) => {
    ev.preventDefault();
    act({ action: action, task_id: t.task_id, reason: d.reason.trim() }, form, error, key);
  } },
  h('label', {}, VERBS[action] + ' ' + clean(t.task_id) + ' as ' + clean(human) + ', because:',
    h('input', { type: 'text', value: d.reason, 'data-focus': key + ':reason', required: true,
      oninput: (ev) => { d.reason = ev.target.value; } })),
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: action === 'cancel' ? 'danger' : 'primary' }, VERBS[action]),
    h('button', { type: 'button', onclick: () => { d.open = false; redraw(); } }, 'Never mind')),
  error);
  return form;
}

// The actions a card offers: what the protocol allows now, and any form already open, so
// that a form does not vanish while it is typed in; if the task moved on meanwhile, the core
// refuses the step and the form says why.
function cardActions(t) {
  if (view.mode !== 'served') return [];
  return Object.keys(VERBS).filter((a) => t.actions.includes(a) || (view.drafts.get(a + ':' + t.task_id) || {}).open);
}

function taskCard(t, human) {
  const actions = cardActions(t);
  return h('div', { class: 'card s-' + token(t.status), 'data-task': t.task_id },
    h('div', { class: 'top' },
      h('span', { class: 'id' }, t.task_id),
      h('span', { class: 'status' }, t.status.replace('_', ' ')),
      t.priority === 'high' ? badge('high', 'warn') : null,
      t.overdue ? badge('overdue', 'late') : null),
    h('div', { class: 'title' }, t.title),
    h('div', { class: 'line' }, holderLine(t)),
    t.due ? h('div', { class: 'line' }, 'due ' + when(t.due)) : null,
    t.status_reason ? body(t.status_reason) : null,
    actions.length ? h('div', { class: 'row' }, actions.map((a) => taskForm(t, a, human))) : null);
}

function board(data) {
  return section('Tasks', null, h('div', { class: 'columns' }, data.columns.map((c) => h('div', { class: 'column', 'data-column': c.key },
    h('h3', {}, c.title + ' (' + c.total + ')'),
    c.tasks.length ? c.tasks.map((t) => taskCard(t, data.human)) : empty('none'),
    c.total > c.tasks.length ? empty((c.total - c.tasks.length) + ' more: `coord task list`') : null))));
}

function pick(taskId) {
  for (const card of document.querySelectorAll('.card[data-task]')) {
    if (card.dataset.task !== clean(taskId)) continue;
    card.scrollIntoView({ block: 'center' });
    card.classList.add('flash');
    setTimeout(() => card.classList.remove('flash'), 1500);
  }
}

function dependencies(data) {
  const graph = data.graph[view.graph];
  const tool = (which, label) => h('button', { type: 'button', class: view.graph === which ? 'on' : null,
    onclick: () => { view.graph = which; redraw(); } }, label);
  return section('Dependencies', graph.nodes.length + ' drawn',
    h('div', { class: 'graph-tools' }, tool('open', 'Open tasks'), tool('all', 'All tasks'),
      h('span', { class: 'empty' }, graphNote(graph, view.graph))),
    graph.nodes.length
      ? h('div', { class: 'graph-wrap' }, drawGraph(graph, pick))
      : empty('No dependency links between the tasks in view.'));
}

function instances(data) {
  const rows = data.instances.map((i) => h('tr', { class: i.stale ? 'stale' : null, 'data-instance': i.instance },
    h('td', {}, h('b', {}, i.instance)),
    h('td', {}, i.role),
    h('td', {}, i.status),
    h('td', {}, when(i.last_update), i.hours_since === null ? '' : ' (' + hours(i.hours_since) + ' ago) ',
      i.stale ? badge('stale: over ' + data.settings.checkin_hours + ' h', 'stale') : null),
    h('td', {}, i.holds.join(', ') || '—')));
  return section('Instances', data.instances.length,
    rows.length
      ? h('table', {}, h('tr', {}, ['instance', 'role', 'status', 'last check-in', 'holds'].map((t) => h('th', {}, t))), rows)
      : empty('No instance is registered.'));
}

function holdings(data) {
  const list = data.holdings;
  const rows = list.items.flatMap((who) => who.tasks.map((t) => h('tr', {},
    h('td', {}, h('b', {}, who.instance)),
    h('td', {}, h('span', { class: 'id' }, t.task_id), ' ', h('span', { class: 't' }, t.title)),
    h('td', {}, t.status.replace('_', ' ')),
    h('td', {}, t.since ? when(t.since) + ' (' + hours(t.hours) + ')' : 'not recorded'))));
  return section('Who holds what', list.total,
    rows.length
      ? h('table', {}, h('tr', {}, ['instance', 'task', 'status', 'since'].map((t) => h('th', {}, t))), rows)
      : empty('Nobody holds a task.'),
    more({ total: list.total, items: rows }, '`coord task list`'));
}

function findings(data) {
  const list = data.findings;
  const items = list.items.map((f) => h('li', {}, badge(f.level, f.level), h('code', {}, f.rule), h('span', { class: 't' }, f.message)));
  return h('div', { id: 'health' }, section('Health', list.total,
    items.length ? h('ul', { class: 'findings' }, items) : empty('Every rule holds.'),
    more(list, '`coord health`')));
}

// The page's sections, each drawn from the board data (gitcoord/board/data.py) and the
// page's own state: which graph is shown, and what has been typed into a form, which
// survives the redraw that follows every commit on the coordination branch.

const view = { mode: 'static', graph: 'open', drafts: new Map(), data: null };

function draft(key, initial) {
  if (!view.drafts.has(key)) view.drafts.set(key, initial);
  return view.drafts.get(key);
}

function more(list, hint) {
  return list.total > list.items.length ? h('p', { class: 'empty' }, (list.total - list.items.length) + ' more: ' + hint) : null;
}

function header(data) {
  const health = data.health;
  const label = health.healthy
    ? (health.warnings ? 'healthy, ' + health.warnings + ' warning(s)' : 'healthy')
    : health.errors + ' error(s), ' + health.warnings + ' warning(s)';
  const where = data.branch ? data.branch + ' @ ' + String(data.commit || '').slice(0, 12) : '';
  return h('header', {},
    h('h1', {}, 'coord board'),
    h('span', { class: 'meta' }, where),
    h('span', { class: 'meta' }, 'as of ' + when(data.generated_at)),
    h('a', { href: '#health' }, badge(label, health.healthy ? 'ok' : 'bad')),
    h('span', { class: 'spacer' }),
    view.mode === 'served'
      ? h('span', { id: 'live', class: 'badge ' + (live.ok ? 'live' : 'off') }, live.state)
      : badge('static snapshot', 'warn'));
}

function staticNotice(data) {
  return h('p', { class: 'notice' },
    'A snapshot made ' + when(data.generated_at) + '. Nothing can be changed from this file: run ',
    h('code', {}, 'coord board --serve'), ' to act from the browser, or copy the command lines shown.');
}

function escalationCard(e, human) {
  return h('div', { class: 'card escalation', 'data-decision': e.decision_id },
    h('div', { class: 'top' }, h('span', { class: 'id' }, e.decision_id), h('span', { class: 'title' }, e.title)),
    h('div', { class: 'line' },
      'about ', e.subject, ', raised by ', e.raised_by || '?', ' at ', when(e.raised_at),
      ', waiting ' + hours(e.waited_hours),
      e.escalated_to && e.escalated_to !== human ? ', for ' + clean(e.escalated_to) : null),
    e.reason ? body(e.reason) : null,
    e.positions.length
      ? h('ul', {}, e.positions.map((p) => h('li', {}, h('b', {}, p.instance),
          p.by ? ' (per ' + clean(p.by) + ')' : null, ': ', h('span', { class: 't' }, p.position))))
      : null,
    decideForm(e, human));
}

function optionLabel(o) {
  return [h('b', {}, o.option),
    o.pros.length ? h('span', { class: 'pros' }, ' + ', o.pros.join('; ')) : null,
    o.cons.length ? h('span', { class: 'cons' }, ' − ', o.cons.join('; ')) : null];
}

function decideForm(e, human) {
  const key = 'decide:' + e.decision_id;
  const d = draft(key, { choice: null, other: '', rationale: '' });
  const chosen = () => (d.choice === 'other' ? d.other.trim() : d.choice === null ? '' : e.options[d.choice].option);
  const command = h('code', { class: 'cmd' });
  const showCommand = () => {
    command.textContent = clean('coord --as ' + shellQuote(human) + ' decision decide ' + shellQuote(e.decision_id) +
      ' --option ' + shellQuote(chosen() || 'OPTION') + ' --rationale ' + shellQuote(d.rationale || 'WHY'));
  };
  const radio = (choice) => h('input', {
    type: 'radio', name: 'choice-' + e.decision_id, checked: d.choice === choice, 'data-focus': key + ':' + choice,
    onchange: () => { d.choice = choice; showCommand(); },
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'act', onsubmit: (ev) => {
    ev.preventDefault();
    act({ action: 'decide', decision_id: e.decision_id, option: chosen(), rationale: d.rationale.trim() }, form, error, key);
  } },
  e.options.map((o, i) => h('label', {}, radio(i), ' ', optionLabel(o))),
  h('label', { class: 'row other' }, radio('other'), ' something else: ', h('input', {
    type: 'text', value: d.other, 'aria-label': 'another answer', 'data-focus': key + ':other',
    oninput: (ev) => { d.other = ev.target.value; d.choice = 'other'; showCommand(); },
  })),
  h('label', {}, 'Rationale (kept in the decision log)', h('textarea', {
    rows: 2, name: 'rationale', 'data-focus': key + ':rationale',
    oninput: (ev) => { d.rationale = ev.target.value; showCommand(); },
  }, d.rationale)),
  h('div', { class: 'row' },
    h('button', { type: 'submit', class: 'primary', disabled: view.mode !== 'served' }, 'Decide as ' + clean(human)),
    view.mode !== 'served' ? h('span', { class: 'empty' }, 'disabled in a static file; the same step:') : null),
  view.mode !== 'served' ? command : null,
  error);
  showCommand();
  return form;
}

function escalations(data) {
  const list = data.escalations;
  return section('Waiting for you: escalations', list.total,
    list.items.length ? list.items.map((e) => escalationCard(e, data.human)) : empty('No escalation waits for ' + clean(data.human) + '.'),
    more(list, '`coord --as ' + clean(data.human) + ' inbox`'));
}

function consultations(data) {
  const list = data.consultations;
  const rows = list.items.map((c) => h('tr', { class: c.late ? 'stale' : null, 'data-message': c.message_id },
    h('td', {}, h('div', { class: 'id' }, c.message_id), h('div', { class: 'nowrap' }, c.from, ' → ', c.to)),
    h('td', {}, h('div', { class: 't' }, c.subject), body(c.body)),
    h('td', { class: 'nowrap', title: 'asked ' + when(c.asked_at) + ', answer due ' + when(c.due_at) },
      hours(c.waited_hours) + ' of ' + hours(c.allowed_hours), h('br', {}),
      c.late ? badge('late', 'late') : badge('in time', 'ok'))));
  return section('Open consultations', list.total,
    rows.length
      ? h('table', {}, h('tr', {}, ['message', 'question', 'waited'].map((t) => h('th', {}, t))), rows)
      : empty('No question waits for an answer.'),
    more(list, '`coord inbox --all`'));
}

function decisionCard(d) {
  return h('div', { class: 'card', 'data-decision': d.decision_id },
    h('div', { class: 'top' }, h('span', { class: 'id' }, d.decision_id), h('span', { class: 'title' }, d.title),
      d.overdue ? badge('past deadline', 'late') : null),
    h('div', { class: 'line' }, 'proposed by ', d.proposed_by || '?', d.deadline ? ', deadline ' + when(d.deadline) : ''),
    h('div', { class: 'line' }, 'options: ', d.options.map((o) => o.option).join(' | ')),
    d.inputs_received.length
      ? h('ul', {}, d.inputs_received.map((i) => h('li', {}, h('b', {}, i.from), ': ', i.option, i.comment ? ' — ' : '',
        h('span', { class: 't' }, i.comment))))
      : h('div', { class: 'line' }, 'no input yet'),
    h('div', { class: 'chips' }, d.inputs_missing.length
      ? ['missing: ', d.inputs_missing.map((n) => badge(n, 'warn'))]
      : badge('every input is in', 'ok')));
}

function decisions(data) {
  const list = data.decisions;
  return section('Pending decisions', list.total,
    list.items.length ? list.items.map(decisionCard) : empty('No decision is pending.'),
    more(list, '`coord decision list`'));
}

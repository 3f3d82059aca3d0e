// The dependency graph as SVG. gitcoord/board/layout.py placed every task and routed every
// edge; this only draws them, with curves between columns and straight runs across them.

function edgePath(points) {
  let d = 'M' + points[0][0] + ' ' + points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    if (y0 === y1) {
      d += ' L' + x1 + ' ' + y1;
    } else {
      const mx = (x0 + x1) / 2;
      d += ' C' + mx + ' ' + y0 + ' ' + mx + ' ' + y1 + ' ' + x1 + ' ' + y1;
    }
  }
  return d;
}

function graphNode(node, width, height, onPick) {
  const who = node.assigned_to ? ' · ' + node.assigned_to : '';
  return s(
    'g',
    { class: 'node g-' + token(node.status), transform: 'translate(' + node.x + ' ' + node.y + ')', 'data-task': node.id,
      onclick: () => onPick(node.id) },
    s('title', {}, node.id + ': ' + clean(node.title) + ' (' + node.status + who + ')'),
    s('rect', { width: width, height: height }),
    s('text', { x: 8, y: 18 }, short(node.title, 29)),
    s('text', { x: 8, y: 35, class: 'sub' }, short(node.id + ' · ' + node.status.replace('_', ' ') + who, 32)),
  );
}

function drawGraph(graph, onPick) {
  const svg = s('svg', {
    class: 'graph', width: graph.width, height: graph.height, viewBox: '0 0 ' + graph.width + ' ' + graph.height,
    role: 'img', 'aria-label': 'task dependency graph',
  });
  svg.append(s('defs', {}, s('marker', {
    id: 'arrow', viewBox: '0 0 8 8', refX: 8, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, s('path', { d: 'M0 0 L8 4 L0 8 z', class: 'arrow' }))));
  for (const edge of graph.edges) {
    svg.append(s('path', { class: 'edge', d: edgePath(edge.points), 'marker-end': 'url(#arrow)',
      'data-from': edge.from, 'data-to': edge.to }));
  }
  for (const node of graph.nodes) svg.append(graphNode(node, graph.node_width, graph.node_height, onPick));
  return svg;
}

function graphNote(graph, which) {
  const notes = [];
  if (graph.unlinked) notes.push(graph.unlinked + ' task(s) with no dependency link in view are on the board only');
  if (graph.over_limit) notes.push(graph.over_limit + ' more are not drawn (the least urgent)');
  if (which === 'open') notes.push('completed dependencies are not drawn');
  return notes.join('; ');
}

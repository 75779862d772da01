"""The history window's script and style, served by the agent itself (nothing comes from the
internet, and the frozen builds need no data files)."""

from __future__ import annotations

SCRIPT = """'use strict';
// Live: the agent says "changed" after each tick that followed a change of the database;
// the list is fetched again with the filters of this address (it is drawn, escaped, by the
// agent: producer text never becomes markup here).
(function () {
  const list = document.getElementById('list');
  if (!list || !window.EventSource) { return; }
  let busy = false, again = false;
  async function reload() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const answer = await fetch('/list' + window.location.search, {credentials: 'same-origin'});
      if (answer.ok) { list.innerHTML = await answer.text(); }
    } catch (e) { /* the agent stopped: the page stays as it was */ }
    busy = false;
    if (again) { again = false; reload(); }
  }
  const events = new EventSource('/events');
  events.onmessage = reload;
  // a link opens in the browser by itself; its notification is marked read as from the menu
  document.addEventListener('click', function (event) {
    const link = event.target.closest('a.link');
    const item = link && link.closest('li.item');
    if (!item) { return; }
    const form = new URLSearchParams({csrf: document.body.dataset.csrf, kind: 'read',
                                      id: item.dataset.id});
    fetch('/act', {method: 'POST', body: form, credentials: 'same-origin'});
  });
})();
"""

STYLE = """
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --accent: #2563eb; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; }
header { position: sticky; top: 0; padding: .75rem 1rem; border-bottom: 1px solid var(--line);
  background: Canvas; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
header h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
header form { display: inline-flex; gap: .4rem; flex-wrap: wrap; align-items: center; }
main { padding: 0 1rem 2rem; max-width: 60rem; }
.items { list-style: none; padding: 0; margin: 0; }
.item { border-bottom: 1px solid var(--line); padding: .7rem 0; }
.item.unread .title::before { content: "\\25CF  "; color: var(--accent); }
.head { color: var(--muted); font-size: .85rem; display: flex; gap: .8rem; flex-wrap: wrap; }
.prio-urgent .prio { color: #dc2626; font-weight: 600; }
.title { font-size: 1rem; margin: .2rem 0; overflow-wrap: anywhere; }
.body { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2rem 0 .4rem; }
.acts { display: flex; gap: .4rem; flex-wrap: wrap; }
.acts form { margin: 0; }
button.link { color: var(--accent); }
.older { display: inline-block; margin-top: 1rem; }
.empty { color: var(--muted); }
"""

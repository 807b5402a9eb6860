// The dashboard page: one EventSource to the CLI process that serves it. A `snapshot` starts
// (or restarts, after a reconnect) the page with 10 minutes of history; then a `tick` every
// second, `events` when something happened, `offline` when the cluster cannot be read.
import { ChartBoard } from './charts.js';
import { formatBytes, formatDuration, formatMs, formatNumber, formatSize, slotColor } from './format.js';
import { Timeline } from './timeline.js';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token');
const charts = new ChartBoard($('charts'));
const timeline = new Timeline($('timeline'), $('timeline-count'));
/** worker id -> its table row; rows are updated in place, so hovering and selection survive. */
const rows = new Map();
/** slot -> messages per second of its latest sample. */
let rates = new Map();

connect();
setUpControls();

function connect() {
  const source = new EventSource('/api/stream');
  source.addEventListener('snapshot', (message) => {
    const snapshot = JSON.parse(message.data);
    document.title = `${snapshot.name} · clusterkit`;
    $('cluster-name').textContent = snapshot.name;
    $('controls').hidden = !(snapshot.allowControl && token);
    charts.reset(snapshot.samples, snapshot.events, snapshot.historyMs);
    timeline.reset(snapshot.events, snapshot.missed);
    const last = snapshot.samples[snapshot.samples.length - 1];
    if (last) rates = ratesOf(last);
    if (snapshot.status) showStatus(snapshot.status, snapshot.slotNotes);
    setConnection(snapshot.offline ? 'offline' : 'live', snapshot.offline);
  });
  source.addEventListener('tick', (message) => {
    const { sample, status, slotNotes } = JSON.parse(message.data);
    charts.add(sample);
    rates = ratesOf(sample);
    showStatus(status, slotNotes);
    setConnection('live');
  });
  source.addEventListener('events', (message) => {
    const { events, missed } = JSON.parse(message.data);
    charts.addEvents(events);
    timeline.add(events, missed);
  });
  source.addEventListener('offline', (message) => setConnection('offline', JSON.parse(message.data).message));
  // EventSource reconnects by itself; the server then sends a fresh snapshot.
  source.addEventListener('error', () => setConnection('reconnecting', 'The dashboard process does not answer; retrying.'));
}

function ratesOf(sample) {
  return new Map(sample.slots.map((figures) => [figures[0], figures[7]]));
}

function setConnection(state, message) {
  const box = $('connection');
  box.dataset.state = state;
  $('connection-text').textContent = state;
  const banner = $('banner');
  banner.hidden = state === 'live';
  banner.textContent = state === 'live' ? '' : message ?? '';
  if (state !== 'live') $('cluster-state').textContent = state === 'offline' ? 'not running' : 'unknown';
}

/** `notes`: the server's lines for the slots without a ready worker (failing in a crash loop, given up), as `clusterkit status` prints them. */
function showStatus(status, notes) {
  $('cluster-state').textContent = status.state;
  $('cluster-state').dataset.state = status.state;
  $('cluster-pid').textContent = status.pid;
  $('cluster-uptime').textContent = formatDuration(status.uptimeMs);
  $('cluster-node').textContent = status.nodeVersion;
  $('cluster-script').textContent = status.script;
  $('cluster-script').title = status.script;
  const workers = status.workers;
  // A silent worker (blocked event loop) is not counted ready: it serves nobody.
  // Nor is one that closed every server it listened on: it accepts nothing.
  const ready = workers.filter((worker) => worker.state === 'ready' && !isSilent(worker) && !isClosed(worker)).length;
  $('fig-ready').textContent = `${ready} / ${status.targetWorkers}`;
  $('fig-ready').dataset.level = ready < status.targetWorkers ? 'warn' : 'ok';
  const restarts = sum(workers, (worker) => worker.restarts);
  $('fig-restarts').textContent = formatNumber(restarts);
  // Unplanned exits apart from reloads; `-` from a primary of an older clusterkit, which sends none.
  const crashes = workers.every((worker) => Number.isSafeInteger(worker.crashes)) ? sum(workers, (worker) => worker.crashes) : undefined;
  $('fig-crashes').textContent = crashes === undefined ? '-' : formatNumber(crashes);
  $('fig-crashes').dataset.level = crashes !== undefined && crashes > 0 ? 'warn' : 'ok';
  $('fig-pending').textContent = formatNumber(sum(workers, (worker) => worker.pending));
  const protocolErrors = status.protocolErrors ?? sum(workers, (worker) => worker.protocolErrors ?? 0);
  $('fig-protocol').textContent = formatNumber(protocolErrors);
  $('fig-protocol').dataset.level = protocolErrors > 0 ? 'bad' : 'ok';
  $('fig-memory').textContent = formatBytes(sum(workers, (worker) => worker.rssBytes ?? 0));
  const cpu = sum(workers, (worker) => (isSilent(worker) ? 0 : worker.cpuPercent ?? 0));
  $('fig-cpu').textContent = `${formatNumber(cpu, cpu >= 100 ? 0 : 1)} %`;
  $('fig-rate').textContent = formatNumber(sum([...rates.values()], (rate) => rate ?? 0), 0);
  const input = $('scale-input');
  // The cluster's ceiling (its --max-workers), within the page's own bound.
  if (Number.isSafeInteger(status.maxWorkers) && status.maxWorkers >= 1) input.max = String(Math.min(status.maxWorkers, 1024));
  if (document.activeElement !== input && !input.dataset.touched) input.value = status.targetWorkers;
  const restarting = Array.isArray(status.failingSlots) ? status.failingSlots.filter((slot) => slot?.state === 'restarting' && Number.isSafeInteger(slot.slot)) : [];
  showWorkers(workers, Array.isArray(status.givenUpSlots) ? status.givenUpSlots.filter((slot) => Number.isSafeInteger(slot?.slot)) : [], restarting);
  showSlotNotes(Array.isArray(notes) ? notes : []);
  showStore(status.store);
}

const kStoreCounts = ['keys', 'maxKeys', 'bytes', 'ephemeralKeys', 'watches', 'watchers', 'heldChanges', 'refusals', 'watchLimitRefusals'];

/**
 * The shared store's figures, shown only while it is in use (it holds, watches or refused
 * something), as `clusterkit status` shows them; hidden for a figure of the wrong type.
 */
function showStore(store) {
  const box = $('fig-store-box');
  const isValid =
    typeof store === 'object' && store !== null && kStoreCounts.every((field) => Number.isSafeInteger(store[field]) && store[field] >= 0) && store.watchLimitRefusals <= store.refusals;
  box.hidden = !(isValid && (store.keys > 0 || store.watches > 0 || store.heldChanges > 0 || store.refusals > 0));
  if (box.hidden) return;
  const limit = Number.isSafeInteger(store.maxBytes) ? formatSize(store.maxBytes) : 'unbounded';
  $('fig-store').textContent = `${formatNumber(store.keys)} key${store.keys === 1 ? '' : 's'} · ${formatSize(store.bytes)}`;
  $('fig-store').dataset.level = store.refusals > 0 ? 'warn' : 'ok';
  const details = [
    `of ${formatNumber(store.maxKeys)} keys, ${limit}`,
    `${formatNumber(store.watches)} watch${store.watches === 1 ? '' : 'es'} (${formatNumber(store.watchers)} worker${store.watchers === 1 ? '' : 's'})`,
    ...(store.ephemeralKeys > 0 ? [`${formatNumber(store.ephemeralKeys)} ephemeral`] : []),
    ...(store.heldChanges > 0 ? [`${formatNumber(store.heldChanges)} held`] : []),
    // A full budget and a worker's watch limit are fixed differently: each says which.
    ...(store.refusals > store.watchLimitRefusals ? [`${formatNumber(store.refusals - store.watchLimitRefusals)} refused (full)`] : []),
    ...(store.watchLimitRefusals > 0 ? [`${formatNumber(store.watchLimitRefusals)} watch${store.watchLimitRefusals === 1 ? '' : 'es'} refused (limit)`] : []),
  ];
  $('fig-store-detail').textContent = details.join(' · ');
}

/** The sum of the finite numbers `pick` returns: a figure of the wrong type counts as nothing. */
function sum(items, pick) {
  return items.reduce((total, item) => {
    const value = pick(item);
    return Number.isFinite(value) ? total + value : total;
  }, 0);
}

/** A slot given up in a crash loop, as a row keyed apart from any worker id: PM2's `errored`, with since when and why in its title. */
function erroredWorker(slot) {
  return { id: `errored-${slot.slot}`, slot: slot.slot, name: slot.name, roles: slot.roles, state: 'errored', uptimeMs: undefined, restarts: slot.restarts, crashes: slot.crashes, givenUpMs: slot.givenUpMs, lastFailure: slot.lastFailure };
}

/** A slot waiting out its restart's back-off in a crash loop: no worker, a row of its own, as in `clusterkit status`. */
function restartingWorker(slot) {
  return { id: `restarting-${slot.slot}`, slot: slot.slot, name: slot.name, roles: slot.roles, state: 'restarting', uptimeMs: undefined, restarts: slot.restarts, crashes: slot.crashes, restartInMs: slot.restartInMs, lastFailure: slot.lastFailure };
}

/** A row of a slot with no worker (given up, restarting): keyed by a string, after the slot's workers. */
function isSlotRow(row) {
  return typeof row.id === 'string';
}

/**
 * One line per slot without a ready worker, the words of `clusterkit status`'s notes (a crash
 * loop's exits in a row, its last failure, when it restarts), above the table: set as text.
 */
function showSlotNotes(notes) {
  const list = $('slot-notes');
  const valid = notes.filter((note) => typeof note?.text === 'string' && Number.isSafeInteger(note.slot));
  list.hidden = valid.length === 0;
  while (list.children.length > valid.length) list.lastChild.remove();
  valid.forEach((note, index) => {
    const item = list.children[index] ?? list.appendChild(document.createElement('li'));
    item.dataset.slot = note.slot;
    item.dataset.state = String(note.state);
    if (item.textContent !== note.text) item.textContent = note.text;
  });
}

function showWorkers(workers, givenUp, restarting) {
  const body = $('worker-rows');
  const seen = new Set();
  const sorted = [...workers, ...restarting.map(restartingWorker), ...givenUp.map(erroredWorker)].sort(
    (a, b) => a.slot - b.slot || (isSlotRow(a) ? (isSlotRow(b) ? 0 : 1) : isSlotRow(b) ? -1 : a.id - b.id),
  );
  sorted.forEach((worker, position) => {
    seen.add(worker.id);
    let row = rows.get(worker.id);
    if (!row) {
      row = createRow(worker);
      rows.set(worker.id, row);
    }
    if (body.children[position] !== row) body.insertBefore(row, body.children[position] ?? null);
    fillRow(row, worker);
  });
  for (const [id, row] of rows) {
    if (seen.has(id)) continue;
    row.remove();
    rows.delete(id);
  }
}

// slot, id, name, roles, pid, state, uptime, restarts, crashes, rss, heap, loop delay, cpu, msgs in / out, pending.
const kColumns = 15;
const kNameColumn = 2;
const kRolesColumn = 3;
const kStateColumn = 5;

function createRow(worker) {
  const row = document.createElement('tr');
  row.dataset.worker = worker.id;
  row.dataset.slot = worker.slot;
  for (let i = 0; i < kColumns; i++) row.append(document.createElement('td'));
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = slotColor(worker.slot);
  row.cells[0].append(swatch, document.createTextNode(''));
  for (const index of [1, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14]) row.cells[index].className = 'num';
  for (const index of [kNameColumn, kRolesColumn]) row.cells[index].className = 'ident';
  row.cells[kStateColumn].className = 'state';
  row.addEventListener('click', () => {
    const slot = Number(row.dataset.slot);
    charts.focus(charts.focused === slot ? null : slot);
    for (const other of rows.values()) other.classList.toggle('focused', charts.focused === Number(other.dataset.slot));
  });
  return row;
}

const kSilentTitle = 'No answer to the heartbeat for that long: its event loop is likely blocked. Its loop delay and CPU are unknown; the primary kills it at the heartbeat timeout.';

/** A ready worker that closed every server it listened on: node:cluster hands it no connection. */
function isClosed(worker) {
  return worker.state === 'ready' && worker.isClosed === true;
}

/** A ready worker unheard for over two heartbeat intervals: its loop delay and CPU are of an interval long past. */
function isSilent(worker) {
  return worker.state === 'ready' && worker.isSilent === true;
}

/**
 * The widest roles cell, in characters, as `clusterkit status` cuts it (H362): a longer list is
 * cut with an ellipsis, whole characters, and its cell's title has every role (H363).
 */
const kMaxRolesChars = 32;

/** The `name` cell: the worker's name, `-` for none (or for a value that is no name: it crossed processes). */
function nameText(name) {
  return typeof name === 'string' && name !== '' ? name : '-';
}

/** The worker's roles comma-joined (`batch,io`), as `clusterkit status` and `workerRoles=` write them; `''` for none. */
function joinRoles(roles) {
  return Array.isArray(roles) ? roles.filter((role) => typeof role === 'string' && role !== '').join(',') : '';
}

/** `[cell text, title]` of the roles: `-` for none; cut at 32 characters with `…`, the whole list in the title. */
function rolesText(roles) {
  const joined = joinRoles(roles);
  if (joined === '') return ['-', ''];
  const chars = [...joined];
  return chars.length > kMaxRolesChars ? [`${chars.slice(0, kMaxRolesChars - 1).join('')}\u2026`, joined] : [joined, ''];
}

/**
 * The name and roles cells (H363): user strings, set as text (`textContent`, `title`), never as
 * markup, so a name such as `<img onerror=...>` shows as written. A name cut by the column's
 * width has it whole in its title.
 */
function fillIdentity(row, worker) {
  const name = nameText(worker.name);
  const [roles, rolesTitle] = rolesText(worker.roles);
  setText(row.cells[kNameColumn], name, name === '-' ? '' : name);
  setText(row.cells[kRolesColumn], roles, rolesTitle);
}

function setText(cell, text, title) {
  if (cell.textContent !== text) cell.textContent = text;
  if (cell.title !== title) cell.title = title;
}

/** `silent 5.2s`, as `clusterkit status` shows it. */
function silence(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return 'silent';
  return `silent ${ms < 60000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : formatDuration(ms)}`;
}

function fillRow(row, worker) {
  const silent = isSilent(worker);
  const delay = worker.eventLoopDelayMs === undefined || worker.eventLoopDelayMs === null || silent
    ? '-'
    : `${formatMs(worker.eventLoopDelayMs)} / ${formatMs(worker.eventLoopDelayP99Ms ?? worker.eventLoopDelayMs)} ms`;
  if (worker.state === 'errored') return fillErroredRow(row, worker);
  if (worker.state === 'restarting') return fillRestartingRow(row, worker);
  const values = [
    null,
    worker.id,
    null,
    null,
    worker.pid ?? '-',
    silent ? silence(worker.silentMs) : isClosed(worker) ? 'closed' : worker.state,
    formatDuration(worker.uptimeMs),
    worker.restarts,
    worker.crashes ?? '-',
    formatBytes(worker.rssBytes),
    formatBytes(worker.heapUsedBytes),
    delay,
    Number.isFinite(worker.cpuPercent) && !silent ? `${formatNumber(worker.cpuPercent, 1)}%` : '-',
    `${formatNumber(worker.messagesIn)} / ${formatNumber(worker.messagesOut)}`,
    worker.pending,
  ];
  row.cells[0].lastChild.textContent = String(worker.slot);
  fillValues(row, values);
  fillIdentity(row, worker);
  row.dataset.state = silent ? 'silent' : isClosed(worker) ? 'closed' : worker.state;
  const title = silent ? kSilentTitle : '';
  if (row.title !== title) row.title = title;
  row.classList.toggle('focused', charts.focused === worker.slot);
}

function fillErroredRow(row, slot) {
  const since = typeof slot.givenUpMs === 'number' ? `given up ${formatDuration(slot.givenUpMs)} ago` : 'given up';
  const values = [null, '-', null, null, '-', 'errored', since, slot.restarts ?? '-', slot.crashes ?? '-', '-', '-', '-', '-', '-', '-'];
  row.cells[0].lastChild.textContent = String(slot.slot);
  fillValues(row, values);
  fillIdentity(row, slot);
  row.dataset.state = 'errored';
  const title = `Given up in a crash loop: not restarted. Last failure: ${slot.lastFailure ?? 'unknown'}. A reload that succeeds starts it again.`;
  if (row.title !== title) row.title = title;
  row.classList.toggle('focused', charts.focused === slot.slot);
}

function fillRestartingRow(row, slot) {
  const when = typeof slot.restartInMs === 'number' && Number.isFinite(slot.restartInMs) ? (slot.restartInMs > 0 ? `restarts in ${(slot.restartInMs / 1000).toFixed(1)}s` : 'restarts now') : '-';
  const values = [null, '-', null, null, '-', 'restarting', when, slot.restarts ?? '-', slot.crashes ?? '-', '-', '-', '-', '-', '-', '-'];
  row.cells[0].lastChild.textContent = String(slot.slot);
  fillValues(row, values);
  fillIdentity(row, slot);
  row.dataset.state = 'restarting';
  const title = `Failing in a crash loop: waiting out its restart's back-off, no worker. Last failure: ${slot.lastFailure ?? 'unknown'}.`;
  if (row.title !== title) row.title = title;
  row.classList.toggle('focused', charts.focused === slot.slot);
}

/** The cells of `values` that are not null (the slot, name and roles cells are filled apart). */
function fillValues(row, values) {
  for (let i = 1; i < kColumns; i++) {
    if (values[i] === null) continue;
    const text = String(values[i]);
    if (row.cells[i].textContent !== text) row.cells[i].textContent = text;
  }
}

function setUpControls() {
  const result = $('control-result');
  const input = $('scale-input');
  input.addEventListener('input', () => (input.dataset.touched = 'yes'));
  $('reload-button').addEventListener('click', () => act('/api/reload', {}, 'Reloading…'));
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    const count = Number(input.value);
    delete input.dataset.touched;
    act('/api/scale', { count }, `Scaling to ${count}…`);
  });

  // The server phrases the outcome as `clusterkit reload|scale` prints it (control-outcome.ts);
  // one that cut requests off or stopped a worker uncleanly shows as a warning.
  async function act(path, body, pending) {
    const buttons = [$('reload-button'), $('scale-button')];
    buttons.forEach((button) => (button.disabled = true));
    result.dataset.level = 'info';
    result.textContent = pending;
    try {
      const response = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      const reply = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(reply.error ?? `HTTP ${response.status}`);
      result.dataset.level = reply.requestsCut > 0 || reply.unclean > 0 ? 'warn' : 'ok';
      result.textContent = typeof reply.message === 'string' ? reply.message : 'Done.';
    } catch (error) {
      result.dataset.level = 'bad';
      result.textContent = error.message;
    } finally {
      buttons.forEach((button) => (button.disabled = false));
    }
  }
}

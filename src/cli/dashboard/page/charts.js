// The charts: one per figure, one line per worker slot (a line goes on across restarts and
// reloads; markers on the time axis say where the process changed). uPlot draws them: about
// 40 kB, made for time series, fast enough for 64 workers x 10 minutes x 6 charts redrawn
// every second.
import { formatClock, formatMb, formatNumber, slotColor } from './format.js';
import { markers } from './markers.js';

/** Index of each figure in a sample's slot array: [slot, workerId, rss, heap, mean, p99, cpu, rate]. */
export const kCharts = [
  { id: 'rss', index: 2, title: 'Memory (RSS)', unit: 'MiB', format: (v) => formatMb(v) },
  { id: 'heap', index: 3, title: 'Heap used', unit: 'MiB', format: (v) => formatMb(v) },
  { id: 'loop-mean', index: 4, title: 'Event-loop delay, mean', unit: 'ms', format: (v) => `${formatNumber(v, 2)} ms` },
  { id: 'loop-p99', index: 5, title: 'Event-loop delay, p99', unit: 'ms', format: (v) => `${formatNumber(v, 1)} ms` },
  { id: 'cpu', index: 6, title: 'CPU', unit: '% of a core', format: (v) => `${formatNumber(v, 1)} %` },
  { id: 'rate', index: 7, title: 'IPC messages', unit: 'per second, to and from the primary', format: (v) => `${formatNumber(v, 1)}/s` },
];

const kHeight = 190;
const kAxis = { stroke: '#94a3b8', grid: { stroke: 'rgba(148, 163, 184, 0.10)', width: 1 }, ticks: { stroke: 'rgba(148, 163, 184, 0.25)', width: 1, size: 4 }, font: '11px system-ui, sans-serif' };

/** The figures of every slot over time, in the column layout uPlot draws from. */
class SeriesStore {
  times = [];
  /** slot -> one array per chart, aligned with `times`. */
  columns = new Map();
  /** slot -> the worker id of its latest sample. */
  workers = new Map();

  add(sample) {
    const at = this.times.length;
    this.times.push(sample.t / 1000);
    const seen = new Set();
    for (const figures of sample.slots) {
      const slot = figures[0];
      let column = this.columns.get(slot);
      if (!column) {
        column = kCharts.map(() => new Array(at).fill(null));
        this.columns.set(slot, column);
      }
      kCharts.forEach((chart, k) => column[k].push(figures[chart.index]));
      this.workers.set(slot, figures[1]);
      seen.add(slot);
    }
    for (const [slot, column] of this.columns) if (!seen.has(slot)) column.forEach((values) => values.push(null));
  }

  /** Drops samples older than `horizon` (seconds) and slots left with no figure at all. */
  trim(horizon) {
    let drop = 0;
    while (drop < this.times.length && this.times[drop] < horizon) drop++;
    if (drop === 0) return;
    this.times.splice(0, drop);
    for (const [slot, column] of this.columns) {
      column.forEach((values) => values.splice(0, drop));
      if (column[0].every((value) => value === null)) {
        this.columns.delete(slot);
        this.workers.delete(slot);
      }
    }
  }

  slots() {
    return [...this.columns.keys()].sort((a, b) => a - b);
  }
}

export class ChartBoard {
  #container;
  #store = new SeriesStore();
  #charts = [];
  /** The slots the charts were built for, as a key: rebuilt when it changes. */
  #slotKey = '';
  #events = [];
  #focused = null;
  /** The focus last given to the charts: re-applied only when it changes, so hovering keeps working. */
  #appliedFocus = undefined;
  #historyMs = 600000;
  #frame = 0;
  /** Charts still to redraw with the latest data: one per animation frame keeps every frame short. */
  #stale = [];

  constructor(container) {
    this.#container = container;
    new ResizeObserver(() => this.#resize()).observe(container);
  }

  reset(samples, events, historyMs) {
    this.#historyMs = historyMs;
    this.#store = new SeriesStore();
    this.#events = [];
    for (const sample of samples) this.#store.add(sample);
    this.addEvents(events);
    this.#slotKey = '';
    this.schedule();
  }

  add(sample) {
    this.#store.add(sample);
    this.#store.trim(sample.t / 1000 - this.#historyMs / 1000);
    this.schedule();
  }

  addEvents(events) {
    for (const event of events) this.#events.push(event);
    const horizon = Date.now() - this.#historyMs;
    while (this.#events.length > 0 && this.#events[0].at < horizon) this.#events.shift();
    this.schedule();
  }

  /** Highlights one slot's line in every chart (null for none). */
  focus(slot) {
    this.#focused = slot;
    this.schedule();
  }

  get focused() {
    return this.#focused;
  }

  /**
   * Redraws the charts, one per animation frame (with 64 workers one chart is a few hundred
   * thousand line segments: six in one frame would freeze the page for a moment every second),
   * and not at all while the tab is hidden.
   */
  schedule() {
    this.#stale = kCharts.map((_, k) => k);
    if (this.#frame) return;
    const next = () => {
      this.#frame = 0;
      const slots = this.#store.slots();
      const key = slots.join(',');
      if (key !== this.#slotKey) this.#build(slots, key);
      this.#applyFocus(slots);
      const k = this.#stale.shift();
      if (k !== undefined) this.#draw(this.#charts[k], k, slots);
      if (this.#stale.length > 0) this.#frame = requestAnimationFrame(next);
    };
    this.#frame = requestAnimationFrame(next);
  }

  #draw(chart, k, slots) {
    const data = [this.#store.times, ...slots.map((slot) => this.#store.columns.get(slot)[k])];
    chart.plot.setData(data);
    chart.card.dataset.points = String(countPoints(data));
  }

  #build(slots, key) {
    for (const chart of this.#charts) chart.plot.destroy();
    this.#container.replaceChildren();
    this.#slotKey = key;
    this.#appliedFocus = undefined;
    this.#charts = kCharts.map((spec) => this.#createChart(spec, slots));
  }

  #createChart(spec, slots) {
    const card = document.createElement('div');
    card.className = 'card chart';
    card.dataset.chart = spec.id;
    const head = document.createElement('div');
    head.className = 'card-head';
    const title = document.createElement('h2');
    title.textContent = spec.title;
    const unit = document.createElement('span');
    unit.className = 'unit';
    unit.textContent = spec.unit;
    const readout = document.createElement('span');
    readout.className = 'readout';
    head.append(title, unit, readout);
    const holder = document.createElement('div');
    holder.className = 'plot';
    card.append(head, holder);
    this.#container.append(card);
    const board = this;
    /** The series nearest the cursor (uPlot's focus), for the readout. */
    let hovered = null;
    const options = {
      width: Math.max(200, holder.clientWidth),
      height: kHeight,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, focus: { prox: 30 }, points: { size: 5 } },
      focus: { alpha: 0.18 },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.12 : 1] } },
      axes: [
        // `14:03:07` needs about 60 px: keep the ticks that far apart.
        { ...kAxis, space: 80, values: (u, ticks) => ticks.map((tick) => formatClock(tick * 1000)) },
        { ...kAxis, size: 58, values: (u, ticks) => ticks.map((tick) => formatNumber(tick, tick < 10 && tick % 1 !== 0 ? 1 : 0)) },
      ],
      series: [{}, ...slots.map((slot) => ({ label: `slot ${slot}`, stroke: slotColor(slot), width: 1, points: { show: false } }))],
      plugins: [markers(() => board.#events)],
      hooks: {
        setSeries: [
          (u, index, change) => {
            if (change.focus !== undefined) hovered = change.focus && index !== null ? index : null;
          },
        ],
        setCursor: [(u) => showReadout(u, readout, spec, slots, board.#store, hovered)],
      },
    };
    const plot = new uPlot(options, [[], ...slots.map(() => [])], holder);
    return { card, plot, holder };
  }

  #applyFocus(slots) {
    if (this.#appliedFocus === this.#focused) return;
    this.#appliedFocus = this.#focused;
    const index = this.#focused === null ? -1 : slots.indexOf(this.#focused);
    for (const { plot } of this.#charts) plot.setSeries(index >= 0 ? index + 1 : null, { focus: index >= 0 }, false);
  }

  #resize() {
    for (const { plot, holder } of this.#charts) plot.setSize({ width: Math.max(200, holder.clientWidth), height: kHeight });
  }
}

function countPoints(data) {
  let count = 0;
  for (let s = 1; s < data.length; s++) for (const value of data[s]) if (value !== null && value !== undefined) count++;
  return count;
}

/** The figure under the cursor: the nearest line's, or the highest one at that time. */
function showReadout(u, readout, spec, slots, store, hovered) {
  const index = u.cursor.idx;
  if (index === null || index === undefined) {
    readout.textContent = '';
    return;
  }
  let best = null;
  const near = hovered === null ? undefined : u.data[hovered]?.[index];
  if (near !== null && near !== undefined) best = { value: near, slot: slots[hovered - 1] };
  else {
    for (let s = 1; s < u.data.length; s++) {
      const value = u.data[s][index];
      if (value !== null && value !== undefined && (best === null || value > best.value)) best = { value, slot: slots[s - 1] };
    }
  }
  const time = formatClock(u.data[0][index] * 1000);
  readout.textContent = best === null ? time : `${time}  slot ${best.slot} (worker ${store.workers.get(best.slot) ?? '-'})  ${spec.format(best.value)}`;
}

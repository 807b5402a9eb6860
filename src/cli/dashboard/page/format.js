// Formatting for the page: the same units and shapes as `clusterkit status`.

/** `450ms`, `12s`, `3m 12s`, `2h 5m`, `4d 3h`. */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** `48.2 MiB` from bytes, or `-` (MiB, as `clusterkit status` and the memory limit: H338). */
export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '-';
  return formatMb(bytes / 1048576);
}

/** `512 B`, `12.5 KiB`, `3.0 MiB` (small sizes: the shared store), or `-`. */
export function formatSize(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '-';
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatMb(mb) {
  if (typeof mb !== 'number' || !Number.isFinite(mb)) return '-';
  if (mb >= 10240) return `${(mb / 1024).toFixed(1)} GiB`;
  return mb >= 100 ? `${Math.round(mb)} MiB` : `${mb.toFixed(1)} MiB`;
}

export function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  return ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1);
}

/** Number formats by digits, made once: `toLocaleString` per call costs 64 rows a lot every second. */
const kFormats = new Map();

export function formatNumber(value, digits = 0) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '-';
  let format = kFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
    kFormats.set(digits, format);
  }
  return format.format(value);
}

/** `14:03:07` in local time. */
export function formatClock(ms) {
  const date = new Date(ms);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** A distinct, stable colour per worker slot (golden-angle hues), readable on the dark page. */
export function slotColor(slot) {
  const hue = Math.round((slot * 137.508 + 200) % 360);
  const lightness = slot % 2 === 0 ? 64 : 56;
  return `hsl(${hue} 80% ${lightness}%)`;
}

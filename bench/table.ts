/**
 * The benchmark table: one row per scenario and serialization, with the ratio clusterkit / raw
 * and whether it meets the floor the issue set.
 */
export interface Row {
  scenario: string;
  serialization: string;
  unit: string;
  raw?: number;
  clusterkit?: number;
  /** The ratio clusterkit / raw must be at least `min` or at most `max`. */
  floor?: { min?: number; max?: number };
  note?: string;
  memory?: Record<string, number>;
}

export function ratio(row: Row): number | undefined {
  return row.raw && row.clusterkit !== undefined ? row.clusterkit / row.raw : undefined;
}

export function meetsFloor(row: Row): boolean | undefined {
  const value = ratio(row);
  if (!row.floor || value === undefined) return undefined;
  return (row.floor.min === undefined || value >= row.floor.min) && (row.floor.max === undefined || value <= row.floor.max);
}

export function formatTable(rows: Row[]): string {
  const header = ['scenario', 'serialization', 'raw', 'clusterkit', 'ratio', 'floor'];
  const lines = rows.map((row) => {
    const value = ratio(row);
    const floor = row.floor ? `${row.floor.min !== undefined ? `>= ${row.floor.min}x` : `<= ${row.floor.max}x`} ${meetsFloor(row) ? 'ok' : 'MISSED'}` : '';
    return [
      row.scenario,
      row.serialization,
      row.raw === undefined ? '' : `${format(row.raw)} ${row.unit}`,
      row.clusterkit === undefined ? (row.note ?? '') : `${format(row.clusterkit)} ${row.unit}`,
      value === undefined ? '' : `${value.toFixed(2)}x`,
      floor,
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const render = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [render(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(render)].join('\n');
}

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en');
  return value.toFixed(1);
}

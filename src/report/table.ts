/** A table cell; null and undefined print as "-". */
export type Cell = string | number | null | undefined;

/** One column of a plain-text table. */
export interface Column<K extends string> {
  /** The row field shown in this column. */
  key: K;
  /** Header text; defaults to the key. */
  header?: string;
  /** Defaults to right when every cell in the column is a number, so digits line up. */
  align?: 'left' | 'right';
  /** Fixed decimals for numbers; without it integers print as-is and other numbers with 2 decimals. */
  decimals?: number;
}

const GAP = '  ';

/** Formats rows as a fixed-width plain-text table: header, dashed rule, one line per row, no trailing spaces. */
export function formatTable<K extends string>(rows: readonly Readonly<Record<K, Cell>>[], columns: readonly Column<K>[]): string {
  const body = rows.map((row) => columns.map((column) => formatCell(row[column.key], column.decimals)));
  const headers = columns.map((column) => column.header ?? column.key);
  const widths = columns.map((_, c) => Math.max(headers[c]!.length, ...body.map((cells) => cells[c]!.length)));
  const aligns = columns.map((column) => column.align ?? (isNumericColumn(rows, column.key) ? 'right' : 'left'));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (aligns[c] === 'right' ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join(GAP)
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join(GAP), ...body.map(line)].join('\n');
}

function formatCell(value: Cell, decimals: number | undefined): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (decimals !== undefined) return value.toFixed(decimals);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function isNumericColumn<K extends string>(rows: readonly Readonly<Record<K, Cell>>[], key: K): boolean {
  const present = rows.map((row) => row[key]).filter((value) => value !== null && value !== undefined);
  return present.length > 0 && present.every((value) => typeof value === 'number');
}

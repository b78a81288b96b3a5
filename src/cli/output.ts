/** Output shapes shared by commands: docker-style tables, --format json and {{.Field}} templates. */

/** Rows as docker prints them: columns padded to their widest cell, three spaces apart. */
export function renderTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}

/**
 * A docker --format value: `json` (one JSON object per line), `table` (the default), `table TEMPLATE`
 * or a Go-like template where {{.Field}} is replaced and {{json .}} / {{json .Field}} print JSON.
 */
export function renderFormatted(format: string, items: readonly object[]): string {
  if (format === 'json') return items.map((i) => JSON.stringify(i) + '\n').join('');
  return items.map((i) => applyTemplate(format, i) + '\n').join('');
}

/** Items as `inspect` commands print them: a JSON array, or the template once per item. */
export function renderInspect(items: readonly object[], format: string | undefined): string {
  return format ? renderFormatted(format, items) : JSON.stringify(items, null, 4) + '\n';
}

export function applyTemplate(tpl: string, obj: unknown): string {
  return tpl
    .replace(/\\t/g, '\t')
    .replace(/\{\{\s*json\s+\.([\w.]*)\s*\}\}/g, (_, path: string) => JSON.stringify(lookup(obj, path)))
    .replace(/\{\{\s*\.([\w.]+)\s*\}\}/g, (_, path: string) => {
      const v = lookup(obj, path);
      if (v === undefined || v === null) return '<no value>';
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
}

function lookup(obj: unknown, path: string): unknown {
  if (path === '') return obj;
  let v: unknown = obj;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

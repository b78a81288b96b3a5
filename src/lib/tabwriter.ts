/**
 * Go's text/tabwriter with the docker CLI's settings for tables (minwidth, tabwidth 1, padding,
 * padchar ' ', no flags): cells end at a tab, a line's last cell is not aligned, and a column's
 * width is set per block of consecutive lines that have that column.
 */
export function tabwrite(text: string, minwidth = 10, padding = 3): string {
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== undefined && last !== '') lines.push(last);
  const cells = lines.map((l) => l.split('\t'));
  const width = (s: string) => [...s].length;
  const widths: number[] = [];
  let out = '';
  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const line = cells[i]!;
      line.forEach((c, j) => {
        out += c;
        if (j < widths.length) out += ' '.repeat(Math.max(widths[j]! - width(c), 0));
      });
      out += '\n';
    }
  };
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= cells[t]!.length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = minwidth;
      for (; t < line1; t++) {
        const line = cells[t]!;
        if (column >= line.length - 1) break;
        w = Math.max(w, width(line[column]!) + padding);
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
      t--;
    }
    writeLines(line0, line1);
  };
  format(0, cells.length);
  return out;
}

/** A build's progress events rendered as BuildKit's plain output, or its tty view redrawn in place. */
import type { ProgressEvent } from '../engine/index.js';

/** Renders progress events as BuildKit's plain output. */
export function plainRenderer(write: (s: string) => void): (e: ProgressEvent) => void {
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  const secs = (id: number) => ((Date.now() - (started.get(id) ?? Date.now())) / 1000).toFixed(1);
  return (e) => {
    switch (e.type) {
      case 'step':
        started.set(e.id, Date.now());
        write(`#${e.id} ${e.text}\n`);
        break;
      case 'cached':
        write(`#${e.id} CACHED\n`);
        break;
      case 'output': {
        const text = (partial.get(e.id) ?? '') + e.data;
        const lines = text.split('\n');
        partial.set(e.id, lines.pop()!);
        for (const l of lines) write(`#${e.id} ${secs(e.id)} ${l}\n`);
        break;
      }
      case 'done': {
        const rest = partial.get(e.id);
        if (rest) write(`#${e.id} ${secs(e.id)} ${rest}\n`);
        partial.delete(e.id);
        write(`#${e.id} DONE ${secs(e.id)}s\n`);
        break;
      }
      case 'warning':
        write(`${e.text}\n`);
        break;
    }
  };
}

/**
 * BuildKit's tty view: a header with the time and the steps done, a line per step (done,
 * CACHED or its time so far) and the last lines of what running steps print, redrawn in place.
 */
export function ttyRenderer(write: (s: string) => void): { on: (e: ProgressEvent) => void; end: () => void } {
  const t0 = Date.now();
  const steps = new Map<number, { text: string; start: number; end?: number; cached?: boolean; tail: string[]; partial: string }>();
  const warnings: string[] = [];
  let drawn = 0;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const draw = (final: boolean) => {
    const cols = Math.max(40, process.stderr.columns ?? 100);
    const cut = (l: string) => (l.length > cols ? l.slice(0, cols - 1) : l);
    const done = [...steps.values()].filter((x) => x.end !== undefined).length;
    const lines = [`[+] Building ${secs(Date.now() - t0)} (${done}/${steps.size})${final ? ' FINISHED' : ''}`];
    for (const st of steps.values()) {
      const right = st.cached ? 'CACHED' : secs((st.end ?? Date.now()) - st.start);
      const room = cols - right.length - 2;
      const left = ` => ${st.text}`;
      lines.push((left.length > room ? left.slice(0, room - 1) + '…' : left).padEnd(room + 1) + right);
      if (st.end === undefined && !final) for (const l of st.tail) lines.push(cut(` => => # ${l}`));
    }
    let text = drawn ? `\x1b[${drawn}F` : '';
    text += lines.map((l) => `${l}\x1b[K\n`).join('') + '\x1b[J';
    drawn = lines.length;
    write(text);
  };
  const timer = setInterval(() => draw(false), 150);
  timer.unref();
  return {
    on: (e) => {
      if (e.type === 'warning') return void warnings.push(e.text);
      if (e.type === 'step') return void steps.set(e.id, { text: e.text, start: Date.now(), tail: [], partial: '' });
      const st = steps.get(e.id);
      if (!st) return;
      if (e.type === 'cached') {
        st.cached = true;
        st.end = Date.now();
      } else if (e.type === 'done') st.end ??= Date.now();
      else if (e.type === 'output') {
        const parts = (st.partial + e.data).split('\n');
        st.partial = parts.pop()!;
        st.tail = [...st.tail, ...parts].slice(-6);
      }
    },
    end: () => {
      clearInterval(timer);
      draw(true);
      for (const w of warnings) write(`${w}\n`);
    },
  };
}

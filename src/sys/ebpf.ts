/**
 * A small eBPF assembler: the few instructions berth's programs use, encoded as the kernel reads
 * them (8 bytes each, little-endian), with jumps to named labels. berth-helper loads the result
 * (fsops' BPF_PROG op); a 64-bit map load holds a map slot of that helper run, not an fd.
 */

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** One instruction, a jump to a label, or a label (a string). */
export type Item = { code: number; dst: Reg; src: number; off: number; imm: number; wide?: boolean } | { jump: 'jeq' | 'jne'; dst: Reg; imm?: number; src?: Reg; to: string } | string;

const insn = (code: number, dst: Reg, src: number, off: number, imm: number): Item => ({ code, dst, src, off, imm });

/** Helper function ids (include/uapi/linux/bpf.h). */
export const Fn = { mapLookup: 1, mapUpdate: 2, getSocketCookie: 46, getNetnsCookie: 122 } as const;

export const I = {
  /** dst = src (64-bit) */
  mov: (dst: Reg, src: Reg) => insn(0xbf, dst, src, 0, 0),
  /** dst = imm */
  movImm: (dst: Reg, imm: number) => insn(0xb7, dst, 0, 0, imm),
  /** dst += imm */
  addImm: (dst: Reg, imm: number) => insn(0x07, dst, 0, 0, imm),
  /** dst &= imm */
  andImm: (dst: Reg, imm: number) => insn(0x57, dst, 0, 0, imm),
  /** dst >>= imm (logical) */
  rshImm: (dst: Reg, imm: number) => insn(0x77, dst, 0, 0, imm),
  /** dst = *(u32 *)(src + off) */
  ldxW: (dst: Reg, src: Reg, off: number) => insn(0x61, dst, src, off, 0),
  /** dst = *(u8 *)(src + off) */
  ldxB: (dst: Reg, src: Reg, off: number) => insn(0x71, dst, src, off, 0),
  /** *(u32 *)(dst + off) = src */
  stxW: (dst: Reg, off: number, src: Reg) => insn(0x63, dst, src, off, 0),
  /** *(u64 *)(dst + off) = src */
  stxDW: (dst: Reg, off: number, src: Reg) => insn(0x7b, dst, src, off, 0),
  /** dst = the map in `slot` (two instructions) */
  ldMap: (dst: Reg, slot: number): Item => ({ code: 0x18, dst, src: 1 /* BPF_PSEUDO_MAP_FD */, off: 0, imm: slot, wide: true }),
  call: (fn: number) => insn(0x85, 0, 0, 0, fn),
  exit: () => insn(0x95, 0, 0, 0, 0),
  /** if dst == imm (or src) goto label */
  jeq: (dst: Reg, v: { imm: number } | { src: Reg }, to: string): Item => ({ jump: 'jeq', dst, ...v, to }),
  /** if dst != imm (or src) goto label */
  jne: (dst: Reg, v: { imm: number } | { src: Reg }, to: string): Item => ({ jump: 'jne', dst, ...v, to }),
};

/** Assembles items into the program's bytes. */
export function assemble(items: readonly Item[]): Buffer {
  const labels = new Map<string, number>();
  let pc = 0;
  for (const it of items) {
    if (typeof it === 'string') {
      if (labels.has(it)) throw new Error(`eBPF label ${it} defined twice`);
      labels.set(it, pc);
    } else pc += 'wide' in it && it.wide ? 2 : 1;
  }
  const out = Buffer.alloc(pc * 8);
  let at = 0;
  const put = (code: number, dst: number, src: number, off: number, imm: number) => {
    out[at * 8] = code;
    out[at * 8 + 1] = (dst & 0xf) | ((src & 0xf) << 4);
    out.writeInt16LE(off, at * 8 + 2);
    out.writeInt32LE(imm | 0, at * 8 + 4);
    at++;
  };
  for (const it of items) {
    if (typeof it === 'string') continue;
    if ('jump' in it) {
      const target = labels.get(it.to);
      if (target === undefined) throw new Error(`eBPF label ${it.to} is not defined`);
      const op = it.jump === 'jeq' ? 0x10 : 0x50;
      const off = target - at - 1;
      if (it.src !== undefined) put(0x05 | op | 0x08, it.dst, it.src, off, 0);
      else put(0x05 | op, it.dst, 0, off, it.imm ?? 0);
      continue;
    }
    put(it.code, it.dst, it.src, it.off, it.imm);
    if (it.wide) put(0, 0, 0, 0, 0);
  }
  return out;
}

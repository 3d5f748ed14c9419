// This module is browser compatible.

/**
 * A minimal protocol-buffers wire-format reader and writer (private). The
 * reader checks every length and bound before it slices or allocates and
 * throws {@linkcode OnnxFormatError} naming the field path.
 *
 * @module
 */

import { OnnxFormatError } from "./errors.ts";

/** Wire types. */
export const VARINT = 0, I64 = 1, LEN = 2, I32 = 5;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads one message's fields in order. */
export class ProtoReader {
  #b: Uint8Array;
  #view: DataView;
  #pos: number;
  #end: number;
  /** The field path for error messages. */
  readonly path: string;

  constructor(bytes: Uint8Array, path: string, start = 0, end = bytes.length) {
    this.#b = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
    this.path = path;
  }

  /** True when every field has been read. */
  done(): boolean {
    return this.#pos >= this.#end;
  }

  /** Throws an OnnxFormatError at `path` (default this message's path). */
  fail(message: string, path = this.path): never {
    throw new OnnxFormatError(path, message);
  }

  /** Reads a field's key: its number and wire type. */
  key(): [field: number, wire: number] {
    const k = this.varint();
    const field = Math.floor(k / 8), wire = k % 8;
    if (field < 1) this.fail(`field number ${field} is not valid`);
    return [field, wire];
  }

  /** Reads an unsigned varint as a number (exact up to 2^53; a 64-bit negative comes back as a large value — use `int64`). */
  varint(): number {
    let result = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) this.fail("truncated varint");
      const byte = this.#b[this.#pos++]!;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) return result;
      mul *= 128;
    }
    return this.fail("varint longer than 10 bytes");
  }

  /** Reads a two's-complement int64 varint as a number; values beyond ±2^53 are an error. */
  int64(): number {
    const start = this.#pos;
    let v = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) this.fail("truncated varint");
      const byte = this.#b[this.#pos++]!;
      v |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (byte < 0x80) {
        const s = BigInt.asIntN(64, v);
        if (s > BigInt(Number.MAX_SAFE_INTEGER) || s < -BigInt(Number.MAX_SAFE_INTEGER)) {
          this.fail(`integer ${s} at byte ${start} is beyond ±2^53`);
        }
        return Number(s);
      }
    }
    return this.fail("varint longer than 10 bytes");
  }

  /** Reads a length-delimited field's bounds, checked against the message's end. */
  span(): [start: number, end: number] {
    const len = this.varint();
    if (len > this.#end - this.#pos) {
      this.fail(`length ${len} runs past the end (${this.#end - this.#pos} bytes left)`);
    }
    const start = this.#pos;
    this.#pos += len;
    return [start, start + len];
  }

  /** Reads a length-delimited field as a view on the file (no copy). */
  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.#b.subarray(s, e);
  }

  /** Reads a UTF-8 string. */
  string(path: string): string {
    try {
      return utf8.decode(this.bytes());
    } catch (e) {
      if (e instanceof OnnxFormatError) throw e;
      return this.fail("invalid UTF-8", path);
    }
  }

  /** Reads an embedded message. */
  message(path: string): ProtoReader {
    const [s, e] = this.span();
    return new ProtoReader(this.#b, path, s, e);
  }

  /** Reads a 32-bit float. */
  float(): number {
    if (this.#end - this.#pos < 4) this.fail("truncated fixed32");
    const v = this.#view.getFloat32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  /** Reads a 64-bit float. */
  double(): number {
    if (this.#end - this.#pos < 8) this.fail("truncated fixed64");
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  /** Skips a field of an unknown number. */
  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === I64) this.#need(8);
    else if (wire === LEN) this.span();
    else if (wire === I32) this.#need(4);
    else this.fail(`wire type ${wire} is not supported (groups are not used by ONNX)`);
  }

  #need(n: number): void {
    if (this.#end - this.#pos < n) this.fail("truncated field");
    this.#pos += n;
  }

  /** Checks a field's wire type. */
  expect(wire: number, want: number, field: string): void {
    if (wire !== want) this.fail(`field ${field} has wire type ${wire}, expected ${want}`);
  }

  /**
   * Reads a repeated scalar field in either encoding (packed or one value
   * per key), appending to `out`.
   */
  repeated(
    wire: number,
    scalar: number,
    read: (r: ProtoReader) => number,
    out: number[],
    field: string,
  ): void {
    if (wire === LEN) {
      const sub = this.message(`${this.path}.${field}`);
      while (!sub.done()) out.push(read(sub));
    } else {
      this.expect(wire, scalar, field);
      out.push(read(this));
    }
  }
}

/** Appends protocol-buffers fields to a growing buffer. */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
  }

  #rawVarint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.#reserve(10);
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }

  #key(field: number, wire: number): void {
    this.#rawVarint(field * 8 + wire);
  }

  /** A varint field (int32, int64, enum, bool); negative values as 64-bit two's complement. */
  varint(field: number, v: number): this {
    this.#key(field, VARINT);
    this.#rawVarint(v);
    return this;
  }

  /** A float field. */
  float(field: number, v: number): this {
    this.#key(field, I32);
    this.#reserve(4);
    new DataView(this.#buf.buffer).setFloat32(this.#len, v, true);
    this.#len += 4;
    return this;
  }

  /** A bytes field. */
  bytes(field: number, b: Uint8Array): this {
    this.#key(field, LEN);
    this.#rawVarint(b.length);
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  /** A string field. */
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** An embedded message field. */
  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }

  /** A packed repeated varint field. */
  packedVarints(field: number, vs: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of vs) w.#rawVarint(v);
    return this.bytes(field, w.finish());
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads a varint (used for `repeated` with `ProtoReader.prototype.int64`). */
export const readInt64 = (r: ProtoReader): number => r.int64();
/** Reads a float. */
export const readFloat = (r: ProtoReader): number => r.float();

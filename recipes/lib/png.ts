/**
 * Just enough PNG decoding to look at a QEMU screendump: which colours fill the screen.
 * (QEMU writes 8-bit RGB or RGBA, non-interlaced.)
 * @module
 */
import { readFile } from "node:fs/promises";
import { inflateSync } from "node:zlib";

/** A decoded image: `pixels` holds RGB triples, row by row. */
export interface Rgb {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/** Decodes an 8-bit RGB/RGBA non-interlaced PNG; throws on anything else. */
export function decodePng(data: Uint8Array): Rgb {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG file");
  let off = 8;
  let width = 0,
    height = 0,
    colorType = 0,
    bitDepth = 0,
    interlace = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      bitDepth = body[8]!;
      colorType = body[9]!;
      interlace = body[12]!;
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG (bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace})`);
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp]! : 0;
      const b = prev[x]!;
      const c = x >= bpp ? prev[x - bpp]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      pixels.set(cur.subarray(x * bpp, x * bpp + 3), (y * width + x) * 3);
    }
    prev.set(cur);
  }
  return { width, height, pixels };
}

/** Share of the screen (0..1) per colour, most common first; colours as `#rrggbb`. */
export function colourShares(img: Rgb, top = 4): { colour: string; share: number }[] {
  const counts = new Map<number, number>();
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const key = (img.pixels[i * 3]! << 16) | (img.pixels[i * 3 + 1]! << 8) | img.pixels[i * 3 + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, c]) => ({ colour: `#${k.toString(16).padStart(6, "0")}`, share: Math.round((c / n) * 1000) / 1000 }));
}

/** Reads a PNG file and summarises its colours. */
export async function screenColours(
  path: string,
): Promise<{ width: number; height: number; colours: { colour: string; share: number }[] }> {
  const img = decodePng(await readFile(path));
  return { width: img.width, height: img.height, colours: colourShares(img) };
}

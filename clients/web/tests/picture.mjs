// A real PNG a camera might give: a sky with a sun over a field of grass. The grass is random
// texture (incompressible), so the file is over 4 MiB and the app uploads it in two blocks.
import { crc32, deflateSync } from 'node:zlib';
import { randomFillSync } from 'node:crypto';

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export function fieldPng(width = 2000, height = 1500) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const stride = width * 3 + 1;
  const rows = Buffer.alloc(stride * height);
  const horizon = Math.round(height / 3);
  const noise = Buffer.alloc(width * 3);
  const sun = { x: width * 0.75, y: horizon * 0.45, r: horizon * 0.22 };
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    rows[row] = 0; // filter: none
    if (y >= horizon) randomFillSync(noise);
    for (let x = 0; x < width; x++) {
      const at = row + 1 + x * 3;
      if (y < horizon) {
        const inSun = (x - sun.x) ** 2 + (y - sun.y) ** 2 < sun.r ** 2;
        const t = y / horizon;
        rows[at] = inSun ? 255 : Math.round(90 + 80 * t);
        rows[at + 1] = inSun ? 214 : Math.round(150 + 60 * t);
        rows[at + 2] = inSun ? 80 : Math.round(225 + 20 * t);
      } else {
        rows[at] = 30 + (noise[x * 3] & 63);
        rows[at + 1] = 100 + (noise[x * 3 + 1] % 120);
        rows[at + 2] = 10 + (noise[x * 3 + 2] & 31);
      }
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

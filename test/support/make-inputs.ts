/** Builds input folders for batch tests from the fixture photos: good images, odd formats, broken files. */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import sharp from 'sharp';
import { fixture } from './paths.js';

/** A PNG whose header declares width × height but whose data is a few bytes: refused before decoding. */
export function makeHugePngHeader(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer): number => {
    let c = 0xffffffff;
    for (const b of buf) c = (crcTable[(c ^ b) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}

export interface PlantedInputs {
  root: string;
  good: string[];
  bad: { relPath: string; code: string }[];
  skipped: string[];
}

/** Good images in several formats and the list of bad inputs, in a tree with nested folders. */
export async function plantMixedInputs(root: string): Promise<PlantedInputs> {
  mkdirSync(join(root, 'a'), { recursive: true });
  mkdirSync(join(root, 'b', 'deep'), { recursive: true });
  mkdirSync(join(root, 'loop'), { recursive: true });
  copyFileSync(fixture('images', 'cat.jpg'), join(root, 'a', 'cat.jpg'));
  copyFileSync(fixture('images', 'tabby_cat_224.jpg'), join(root, 'b', 'cat.jpg'));
  copyFileSync(fixture('images', 'dog.jpg'), join(root, 'b', 'deep', 'dog.jpg'));
  const photo = sharp(fixture('images', 'pizza.jpg')).resize(96, 96);
  writeFileSync(join(root, 'a', 'cmyk.jpg'), await photo.clone().toColourspace('cmyk').jpeg().toBuffer());
  writeFileSync(join(root, 'a', 'deep16.png'), await photo.clone().toColourspace('rgb16').png().toBuffer());
  writeFileSync(join(root, 'a', 'alpha.png'), await photo.clone().ensureAlpha(0.5).png().toBuffer());
  writeFileSync(join(root, 'a', 'gray.png'), await photo.clone().grayscale().png().toBuffer());
  const red = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#f00' } }).png().toBuffer();
  const blue = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#00f' } }).png().toBuffer();
  writeFileSync(join(root, 'a', 'anim.gif'), await sharp([red, blue], { join: { animated: true } }).gif().toBuffer());
  // An image without an extension is recognised by its content.
  writeFileSync(join(root, 'b', 'photo-without-extension'), await photo.clone().webp().toBuffer());
  writeFileSync(join(root, 'b', 'notes.txt'), 'not an image\n');
  writeFileSync(join(root, 'bad-zero.jpg'), Buffer.alloc(0));
  writeFileSync(join(root, 'bad-truncated.jpg'), readFileSync(fixture('images', 'dog.jpg')).subarray(0, 2000));
  writeFileSync(join(root, 'bad-text.jpg'), 'hello, I am text\n');
  writeFileSync(join(root, 'bad-huge.png'), makeHugePngHeader(30000, 30000));
  symlinkSync('..', join(root, 'loop', 'up'));
  // Root reads any file whatever its mode: /proc/self/mem refuses plain reads for everyone.
  if (process.getuid?.() === 0) symlinkSync('/proc/self/mem', join(root, 'bad-unreadable.jpg'));
  else {
    writeFileSync(join(root, 'bad-unreadable.jpg'), 'x');
    (await import('node:fs')).chmodSync(join(root, 'bad-unreadable.jpg'), 0);
  }
  return {
    root,
    good: ['a/alpha.png', 'a/anim.gif', 'a/cat.jpg', 'a/cmyk.jpg', 'a/deep16.png', 'a/gray.png', 'b/cat.jpg', 'b/deep/dog.jpg', 'b/photo-without-extension'],
    bad: [
      { relPath: 'bad-huge.png', code: 'E_IMAGE_DECODE' },
      { relPath: 'bad-text.jpg', code: 'E_IMAGE_DECODE' },
      { relPath: 'bad-truncated.jpg', code: 'E_IMAGE_DECODE' },
      { relPath: 'bad-unreadable.jpg', code: 'E_IMAGE_READ' },
      { relPath: 'bad-zero.jpg', code: 'E_IMAGE_DECODE' },
      { relPath: 'loop/up', code: 'E_INPUT_LOOP' },
    ],
    skipped: ['b/notes.txt'],
  };
}

/** Test-only: a fixture photo as model input values in [0, 255], resized (stretched) to h x w. */
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES } from './load-fixture.js';

export async function fixtureImage(file: string, height: number, width: number, channels: 1 | 3): Promise<Float32Array> {
  let img = sharp(join(FIXTURES, 'images', file)).resize(width, height, { fit: 'fill' }).removeAlpha();
  if (channels === 1) img = img.toColourspace('b-w');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`${file}: got ${info.channels} channels, expected ${channels}`);
  return Float32Array.from(data);
}

/**
 * [height, width, channels] of an HWC buffer (row-major, channels last), as tfjs shapes, model inputs
 * and reports write it. `C` narrows the channels where only some counts make sense (sharp: 1 | 3).
 */
export type HwcShape<C extends number = number> = readonly [height: number, width: number, channels: C];

export { convertKerasFile } from './convert-keras-file.js';
export type { ConvertedKerasFile } from './convert-keras-file.js';
export { detectKerasFile, readKerasFiles } from './read-keras-files.js';
export type { KerasFileKind } from './read-keras-files.js';
export { translateKerasConfig } from './translate-keras-config.js';

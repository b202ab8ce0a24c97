/**
 * The embedded default model: MobileNet v1 0.25 (224×224, 1000 ImageNet classes), shipped in the package
 * with its sidecar igx.json and labels. Found from the package root, so the path holds both when this
 * code runs from src/ (tsx) and from dist/src/ (compiled).
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';

/** Absolute path of the default model's folder. */
export const DEFAULT_MODEL_PATH: string = join(PACKAGE_ROOT, 'fixtures', 'models', 'mobilenet_v1_0.25_224');

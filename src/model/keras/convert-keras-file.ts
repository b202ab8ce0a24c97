/** `igx convert FILE.keras|FILE.h5 OUT_DIR`: the Keras file as a TensorFlow.js layers model on disk. */
import { writeGraphModel, type WrittenGraphModel } from '../../savedmodel/convert.js';
import { readKerasFiles, type KerasFileKind } from './read-keras-files.js';

export interface ConvertedKerasFile extends WrittenGraphModel {
  /** How many weight tensors the model.json lists. */
  weightCount: number;
}

/**
 * Writes OUT_DIR/model.json (format 'layers-model') and its weight shard(s), each file atomically, as
 * writeGraphModel does for SavedModels. Errors as readKerasFiles, and E_WRITE.
 */
export async function convertKerasFile(path: string, kind: KerasFileKind, outDir: string): Promise<ConvertedKerasFile> {
  const files = await readKerasFiles(path, kind);
  const written = await writeGraphModel(files.artifacts, outDir);
  return { ...written, weightCount: files.artifacts.weightSpecs?.length ?? 0 };
}

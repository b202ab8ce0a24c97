// The part of jsfive 0.4 (a pure-JavaScript HDF5 reader; it ships no types) that igx uses.
declare module 'jsfive' {
  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
  }
  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    /** '<f4', '>f8', '<i8', … or a compound/string description. */
    readonly dtype: unknown;
    readonly value: ArrayLike<number> | ArrayLike<bigint>;
    readonly attrs: Record<string, unknown>;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}

// Work a writer process does against a shared store (see writer-process.ts).
export type WriterJob =
  /** `writers` async loops, each doing `increments` read-modify-write increments of `key`. */
  | { kind: 'increment'; key: string; writers: number; increments: number }
  /** Creates `${prefix}000000`, `${prefix}000001`, ... up to `count` keys. */
  | { kind: 'create'; prefix: string; count: number; value?: string };

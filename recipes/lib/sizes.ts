/**
 * Normalised image facts the recipes report (numbers of bytes, not strings).
 * @module
 */

/** The lab's `qemu-img info` lines as data. */
export interface ImageFacts {
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly clusterSize: number | null;
}

/** Converts a size the SDK may give as number or bigint to a number (image sizes fit in 2^53). */
export function num(v: number | bigint | undefined | null): number | null {
  return v === undefined || v === null ? null : Number(v);
}

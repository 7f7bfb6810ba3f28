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

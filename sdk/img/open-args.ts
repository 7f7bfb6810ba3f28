/**
 * How an image is named on a qemu-img command line with its format forced.
 * @module
 */

/**
 * `--image-opts` form for subcommands without `-f` (qemu-img 7.2's `snapshot`): the
 * format is then explicit too. QEMU's option parser reads `,,` as a literal comma.
 *
 * @example
 * ```ts
 * imageOpts("/vm/a,b.qcow2", "qcow2"); // ["--image-opts", "driver=qcow2,file.driver=file,file.filename=/vm/a,,b.qcow2"]
 * ```
 */
export function imageOpts(absPath: string, format: string): string[] {
  return ["--image-opts", `driver=${format},file.driver=file,file.filename=${absPath.replaceAll(",", ",,")}`];
}

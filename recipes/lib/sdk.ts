/**
 * The public SDK as the recipes see it (one import line to switch to `../../sdk/mod.ts`).
 * @module
 */
export { vm, overlay, type VmBuilder } from "../../sdk/spec/mod.ts";
export { attach, list, Wait } from "../../sdk/machine/mod.ts";
export { host } from "../../sdk/host/mod.ts";
export { verify } from "../../sdk/verify/mod.ts";
export { image } from "../../sdk/img/image.ts";
export type { ImageInfo } from "../../sdk/img/mod.ts";
export { guests } from "../../sdk/guests/mod.ts";
export { VERSION } from "../../sdk/version.ts";
export { fromCommandLine } from "../../sdk/compile/mod.ts";

export * from "./exec.ts";
export * from "./dirs.ts";

/** Types of repl/launch.js (plain JavaScript so Node starts it without a TypeScript loader). */
/** Repository (or package) root. */
export declare const root: string;
/** Hash of the REPL's and SDK's sources; names the bundle folder. */
export declare function bundleKey(): string;
/** Folder holding this checkout's bundles (`<cache>/repl-bundles/<checkout hash>`, or `$QEMUKIT_REPL_BUNDLE_DIR`). */
export declare function bundleRoot(): string;
/** Modules whose exports become REPL globals. */
export declare function sdkModules(): string[];
/** Builds the bundle unless it is current; returns its entry file. */
export declare function ensureBundle(key?: string): Promise<string>;
/** Starts the REPL from the bundle. */
export declare function launch(options?: Record<string, unknown>): Promise<unknown>;

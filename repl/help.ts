/**
 * The `.help` tour.
 * @module
 */

/** Text of `.help`: what is in scope, a few lines worth trying, the dot commands. */
export function helpText(names: { readonly sdk: readonly string[]; readonly recipes: readonly string[] }): string {
  return `qemukit REPL: TypeScript, top-level await, the whole SDK in scope.

In scope: ${names.sdk.join(", ")}
          $ (zx), recipes${names.recipes.length ? ` (${names.recipes.join(", ")})` : ""}

Try:
  const g = await guests.tiny()                       // a kernel + busybox initrd, built once
  const m = await vm().memory(256).accel("tcg").kernel(g.kernel, { initrd: g.initrd, append: g.append }).start()
  m                                                   // name, state, accel, pid, ports
  await m.qmp.execute("query-status")                 // Tab inside the quotes lists QMP commands
  await m.console.waitFor(g.prompt); (await m.console.run("uname -r")).output
  .argv vm().memory("1G").smp(2).vnc(1)               // the qemu command line of a builder
  await image.info("disk.qcow2")                      // qemu-img, typed
  await host.check()                                  // can this host run KVM?
  await $\`qemu-img --version\`                         // zx for anything else

Tab completes SDK names, builder methods after vm()., and QMP command names (live from the
VM when one is running). VMs started here are shut down when you leave (Ctrl-D, .exit,
Ctrl-C twice) unless they were started with .daemonize().

Commands:
  .vms              running VMs (all of this user's, with state and ports)
  .recipes          the lab recipes;  .run <id> [options]  runs one, result in lastRun
                    (also: await recipes["<id>"](options))
  .argv <builder>   the qemu command line a builder compiles to
  .template [tiny|debian]  saved templates; with a guest: its template into t (await t.start())
  .web [vm]         the VM's screen and serial console on a local web page (prints its URL)
  .help             this text  (node's own .help: .break .clear .editor .exit .load .save)
`;
}

/**
 * The host check's libvirt line: is libvirt reachable at a URI, and can its QEMU driver
 * run qemukit's domains (TCG `qemu` domains for x86_64)?
 * @module
 */
import type { HostCheckItem } from "../host/types.ts";
import { which } from "../util/exec.ts";
import { VirshSession } from "./connection.ts";
import { LibvirtError } from "./errors.ts";

/**
 * Checks libvirt at `uri` with one virsh session: version, the QEMU driver's domain
 * capabilities for `qemu` (TCG) domains, and the running domains.
 *
 * @example
 * ```ts
 * const item = await checkLibvirt("qemu:///system"); // { id: "libvirt", status: "pass", summary: "libvirt 9.0.0 ..." }
 * ```
 */
export async function checkLibvirt(uri: string): Promise<HostCheckItem> {
  if (!(await which("virsh"))) {
    return {
      id: "libvirt",
      status: "warn",
      summary: "virsh not found: libvirt hosts cannot be used from here",
      fix: "sudo apt-get install libvirt-clients   (and libvirt-daemon-system on hosts that run VMs)",
    };
  }
  let s: VirshSession | undefined;
  try {
    s = await VirshSession.open(uri);
    const version = await s.run(["version"]);
    const lib = /Running against daemon:\s*(\S+)|Using library: libvirt (\S+)/.exec(version);
    const hv = /Running hypervisor: (.+)/.exec(version)?.[1]?.trim() ?? "an unknown hypervisor";
    const caps = await s.run(["domcapabilities", "--virttype", "qemu", "--arch", "x86_64"]);
    const running = (await s.run(["list", "--name"])).split("\n").filter(Boolean).length;
    if (!/<domainCapabilities>/.test(caps)) {
      return {
        id: "libvirt",
        status: "warn",
        summary: `libvirt at ${uri} answers but cannot describe QEMU x86_64 domains`,
        fix: "install qemu-system-x86 and libvirt-daemon-driver-qemu on that host",
      };
    }
    return {
      id: "libvirt",
      status: "pass",
      summary: `libvirt ${lib?.[1] ?? lib?.[2] ?? ""} at ${uri} runs ${hv}; ${running} domain(s) running`,
    };
  } catch (e) {
    const said = e instanceof LibvirtError ? e.summary : (e as Error).message;
    return {
      id: "libvirt",
      status: "warn",
      summary: `libvirt is not reachable at ${uri}`,
      detail: said,
      fix: uri.startsWith("qemu+ssh")
        ? "check ssh access (keyfile, known_hosts) and that libvirtd runs on that host"
        : "start libvirtd (sudo libvirtd -d without systemd, or systemctl start libvirtd)",
    };
  } finally {
    await s?.close().catch(() => {});
  }
}

// The guides show example files verbatim, and the examples run: a doc that drifts from
// the code, or an example that stops working, fails here.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

const docsDir = join(repoRoot, "docs");
const guides = readdirSync(docsDir).filter((f) => f.endsWith(".md"));

function embeddedExamples(markdown: string): { path: string; code: string }[] {
  const out: { path: string; code: string }[] = [];
  const re = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g;
  for (const m of markdown.matchAll(re)) out.push({ path: m[1]!, code: m[2]! });
  return out;
}

describe("docs examples", () => {
  it("every embedded example is the file's current text", () => {
    let seen = 0;
    for (const guide of guides) {
      for (const ex of embeddedExamples(readFileSync(join(docsDir, guide), "utf8"))) {
        expect(ex.code, `${guide} embeds ${ex.path}`).toBe(readFileSync(join(repoRoot, ex.path), "utf8"));
        seen++;
      }
    }
    expect(seen).toBeGreaterThanOrEqual(2);
  });

  it("command-line.ts prints a runnable line and parses the lab's line", () => {
    const out = execFileSync(join(repoRoot, "node_modules/.bin/tsx"), ["docs/examples/command-line.ts"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(out).toMatch(/^mkdir -p -- \/tmp\/qemukit\/demo && qemu-img create .* -F qcow2 .* && qemu-system-x86_64 /m);
    expect(out).toContain("512 2 1 true []");
    expect(out).toContain(
      "warning: -vnc :1 listens on all interfaces: VNC display :1 (TCP 5901) is reachable from other machines",
    );
  });

  it("quickstart.ts boots the tiny guest and reports what it saw", () => {
    const out = execFileSync(join(repoRoot, "node_modules/.bin/tsx"), ["docs/examples/quickstart.ts"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 180_000,
    });
    expect(out).toMatch(/^accelerator: (tcg|kvm) \(.+\)$/m);
    expect(out).toMatch(/^status: running$/m);
    expect(out).toMatch(/^guest kernel: \d+\.\d+\.\d+-\S+ \(exit 0\)$/m);
    const [, total, vcpus] = out.match(/^QEMU threads: (\d+), vCPU threads: (\d+)$/m)!;
    expect(Number(vcpus)).toBe(1);
    expect(Number(total)).toBeGreaterThan(Number(vcpus));
  });

  it("guest-script.ts boots Debian on an overlay, runs m.$, copies a file both ways, powers off by ACPI", () => {
    const out = execFileSync(join(repoRoot, "node_modules/.bin/tsx"), ["docs/examples/guest-script.ts"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 570_000,
    });
    expect(out).toMatch(/^root file system: \/dev\/sda1\s+\S+/m);
    expect(out).toMatch(/^addresses: .*\b10\.0\.2\.15\/24/m);
    expect(out).toMatch(/^report: \d+ bytes$/m);
    expect(Number(/^report lines: (\d+)$/m.exec(out)?.[1])).toBeGreaterThanOrEqual(6);
    expect(out).toContain("report title: report: $(hostname) isn't expanded");
    expect(out).toMatch(/^shutdown: guest-shutdown$/m);
  }, 600_000);
});

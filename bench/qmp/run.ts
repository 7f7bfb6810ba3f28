/**
 * QMP benchmark: `query-status` round trips per second through qemukit's QmpClient versus
 * a minimal raw Node socket loop, taking turns on the same QEMU monitor in the same run;
 * sequentially (one in flight) and pipelined (many in flight). Run: `npx tsx bench/qmp/run.ts`.
 * @module
 */
import { connect, type Socket } from "node:net";
import { QmpClient } from "../../sdk/qmp/mod.ts";
import { startTestQemu } from "../../test/helpers/qmp-qemu.ts";

const SEQUENTIAL = Number(process.env.QMP_BENCH_SEQ ?? 1000);
const PIPELINED = Number(process.env.QMP_BENCH_PIPE ?? 2000);
const ROUNDS = Number(process.env.QMP_BENCH_ROUNDS ?? 8);

/** The raw baseline: a socket, a newline splitter and JSON.parse; nothing else. */
class RawQmp {
  private buf = "";
  private onLine: (line: string) => void = () => {};
  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.onLine(line);
      }
    });
  }

  static async open(path: string): Promise<RawQmp> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path, () => resolve(s));
      s.once("error", reject);
    });
    const raw = new RawQmp(socket);
    await raw.replies(1, () => {}); // greeting
    await raw.replies(1, () => socket.write('{"execute":"qmp_capabilities"}\n'));
    return raw;
  }

  /** Waits for `n` lines (each JSON-parsed), after calling `send`. */
  replies(n: number, send: () => void): Promise<void> {
    return new Promise((resolve) => {
      let left = n;
      this.onLine = (line) => {
        JSON.parse(line);
        if (--left === 0) resolve();
      };
      send();
    });
  }

  sequential(n: number): Promise<void> {
    return new Promise((resolve) => {
      let left = n;
      const cmd = '{"execute":"query-status"}\n';
      this.onLine = (line) => {
        JSON.parse(line);
        if (--left === 0) resolve();
        else this.socket.write(cmd);
      };
      this.socket.write(cmd);
    });
  }

  pipelined(n: number): Promise<void> {
    return this.replies(n, () => this.socket.write('{"execute":"query-status"}\n'.repeat(n)));
  }

  close(): void {
    this.socket.destroy();
  }
}

function rate(n: number, ms: number): number {
  return (n / ms) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const qemu = startTestQemu();
  try {
    // Both clients take turns on the same monitor (QEMU serves one client at a time), each
    // connecting before its timed run and disconnecting after, so neither gets a better socket.
    const qmpProbe = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 10_000 });
    const version = qmpProbe.qemuVersion;
    await qmpProbe.close();
    const withRaw = async (f: (raw: RawQmp) => Promise<void>) => {
      const raw = await RawQmp.open(qemu.socket);
      try {
        await f(raw);
      } finally {
        raw.close();
      }
    };
    const withKit = async (f: (qmp: QmpClient) => Promise<void>) => {
      const qmp = await QmpClient.connect(qemu.socket, { retryUntil: Date.now() + 5_000 });
      try {
        await f(qmp);
      } finally {
        await qmp.close();
      }
    };
    // Warm up both paths (JIT, QEMU caches).
    await withRaw((raw) => raw.sequential(300));
    await withKit(async (qmp) => {
      for (let i = 0; i < 300; i++) await qmp.execute("query-status");
    });

    // The host is shared, so throughput swings between rounds: interleave the paths,
    // alternate which goes first, and compare per-round ratios. CPU time spent in this
    // process per command is also reported: it is the client's own cost, unaffected by load.
    type Path = "rawSeq" | "kitSeq" | "rawPipe" | "kitPipe";
    type Timed = (run: () => Promise<void>) => Promise<void>;
    const runs: Record<Path, (timed: Timed) => Promise<void>> = {
      rawSeq: (timed) => withRaw((raw) => timed(() => raw.sequential(SEQUENTIAL))),
      kitSeq: (timed) =>
        withKit((qmp) =>
          timed(async () => {
            for (let i = 0; i < SEQUENTIAL; i++) await qmp.execute("query-status");
          }),
        ),
      rawPipe: (timed) => withRaw((raw) => timed(() => raw.pipelined(PIPELINED))),
      kitPipe: (timed) =>
        withKit((qmp) =>
          timed(async () => {
            const calls: Promise<unknown>[] = [];
            for (let i = 0; i < PIPELINED; i++) calls.push(qmp.execute("query-status"));
            await Promise.all(calls);
          }),
        ),
    };
    const rates: Record<Path, number[]> = { rawSeq: [], kitSeq: [], rawPipe: [], kitPipe: [] };
    const cpu: Record<Path, number[]> = { rawSeq: [], kitSeq: [], rawPipe: [], kitPipe: [] };
    const measure = async (p: Path) => {
      const n = p.endsWith("Seq") ? SEQUENTIAL : PIPELINED;
      await runs[p](async (run) => {
        const c0 = process.cpuUsage();
        const t = performance.now();
        await run();
        const ms = performance.now() - t;
        const c = process.cpuUsage(c0);
        rates[p].push(rate(n, ms));
        cpu[p].push((c.user + c.system) / n);
      });
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Path[][] =
        round % 2 === 0
          ? [
              ["rawSeq", "kitSeq"],
              ["rawPipe", "kitPipe"],
            ]
          : [
              ["kitSeq", "rawSeq"],
              ["kitPipe", "rawPipe"],
            ];
      for (const pair of order) for (const p of pair) await measure(p);
    }
    const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
    const fmt = (x: number) => x.toFixed(0).padStart(7);
    const us = (x: number) => x.toFixed(1).padStart(7);
    console.log(
      `QMP query-status on QEMU ${version}: ${ROUNDS} interleaved rounds of ${SEQUENTIAL} sequential and ${PIPELINED} pipelined`,
    );
    console.log(`                         raw loop   qemukit   ratio (median of per-round ratios)`);
    console.log(
      `sequential    (/s)        ${fmt(median(rates.rawSeq))}   ${fmt(median(rates.kitSeq))}   ${ratio(rates.kitSeq, rates.rawSeq).toFixed(2)}x`,
    );
    console.log(
      `pipelined     (/s)        ${fmt(median(rates.rawPipe))}   ${fmt(median(rates.kitPipe))}   ${ratio(rates.kitPipe, rates.rawPipe).toFixed(2)}x`,
    );
    console.log(`client CPU seq  (us/cmd)  ${us(median(cpu.rawSeq))}   ${us(median(cpu.kitSeq))}`);
    console.log(`client CPU pipe (us/cmd)  ${us(median(cpu.rawPipe))}   ${us(median(cpu.kitPipe))}`);
    console.log(
      `per round /s: raw seq ${rates.rawSeq.map((x) => x.toFixed(0)).join(",")} | kit seq ${rates.kitSeq.map((x) => x.toFixed(0)).join(",")} | raw pipe ${rates.rawPipe.map((x) => x.toFixed(0)).join(",")} | kit pipe ${rates.kitPipe.map((x) => x.toFixed(0)).join(",")}`,
    );
  } finally {
    await qemu.stop();
  }
}

await main();

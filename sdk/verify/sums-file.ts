/**
 * Parsing SHA*SUMS files (pure): GNU coreutils style (`<hex> <space|*><name>`, with the
 * backslash-escaped form for names holding `\` or newlines) and BSD tag style
 * (`SHA256 (name) = <hex>`, what `sha256sum --tag` writes).
 * @module
 */
import {
  type DigestAlgorithm,
  HEX_LENGTH,
  algorithmFromFileName,
  algorithmFromHexLength,
  algorithmFromTag,
} from "./algorithms.ts";
import { VerifyError } from "./errors.ts";

/** One line of a sums file. */
export interface SumsEntry {
  readonly algorithm: DigestAlgorithm;
  /** Lower-case hex digest. */
  readonly digest: string;
  /** File name as written (unescaped), relative to the sums file's directory unless absolute. */
  readonly path: string;
  /** `*` marker: the file was hashed in binary mode (identical on POSIX; kept for reporting). */
  readonly binary: boolean;
  /** 1-based line number in the sums file. */
  readonly line: number;
}

function unescapeName(name: string, lineNo: number, source: string): string {
  return name.replace(/\\(.)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === "r") return "\r";
    throw new VerifyError("VERIFY_MALFORMED", `${source}:${lineNo}: unknown escape \\${c} in a file name`);
  });
}

/**
 * Parses the text of a sums file. `source` names the file for errors and, when its name says
 * `SHA512SUMS` etc., fixes the algorithm (a digest of another length is then an error).
 *
 * @example
 * ```ts
 * parseSumsFile("e3b0c442...b855  empty.txt\n", "SHA256SUMS")[0].path; // "empty.txt"
 * ```
 * @throws {VerifyError} `VERIFY_MALFORMED` with the line number when a line cannot be parsed.
 */
export function parseSumsFile(text: string, source = "SUMS"): SumsEntry[] {
  const named = algorithmFromFileName(source);
  const entries: SumsEntry[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    const bad = (why: string) =>
      new VerifyError("VERIFY_MALFORMED", `${source}:${lineNo}: ${why}: ${JSON.stringify(line.slice(0, 80))}`, {
        advice: "each line must be '<hex digest>  <file name>' (or '<hex> *<name>', or 'SHA256 (<name>) = <hex>')",
        details: { source, line: lineNo },
      });
    const escaped = line.startsWith("\\");
    const body = escaped ? line.slice(1) : line;
    let algorithm: DigestAlgorithm | undefined;
    let digest: string;
    let name: string;
    let binary = false;
    const tag = /^([A-Za-z0-9-]+) \((.*)\) = ([0-9A-Fa-f]+)$/.exec(body);
    const gnu = /^([0-9A-Fa-f]+) ([ *])(.+)$/.exec(body);
    if (tag) {
      algorithm = algorithmFromTag(tag[1]!);
      if (!algorithm) throw bad(`unknown algorithm ${tag[1]}`);
      [digest, name, binary] = [tag[3]!, tag[2]!, true];
    } else if (gnu) {
      [digest, name, binary] = [gnu[1]!, gnu[3]!, gnu[2] === "*"];
      algorithm = named ?? algorithmFromHexLength(digest.length);
      if (!algorithm) throw bad(`a ${digest.length}-character digest matches no known algorithm`);
    } else {
      throw bad("not a checksum line");
    }
    if (digest.length !== HEX_LENGTH[algorithm]) {
      throw bad(`${algorithm} digests have ${HEX_LENGTH[algorithm]} hex characters, this one has ${digest.length}`);
    }
    if (named && algorithm !== named) throw bad(`${algorithm} line in a ${named} sums file`);
    entries.push({
      algorithm,
      digest: digest.toLowerCase(),
      path: escaped ? unescapeName(name, lineNo, source) : name,
      binary,
      line: lineNo,
    });
  });
  return entries;
}

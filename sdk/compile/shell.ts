/**
 * POSIX shell words: quoting for copy-pasteable command lines, and splitting for parsing
 * command lines users paste from the lab.
 * @module
 */
import { SpecError } from "../errors/errors.ts";

/**
 * Quote one word for a POSIX shell. Words made only of safe characters stay bare; others
 * are single-quoted (a `'` becomes `'\''`). NUL cannot be quoted and is rejected.
 *
 * @example
 * ```ts
 * shellQuote("a,b.qcow2");   // "a,b.qcow2"
 * shellQuote("my disk");     // "'my disk'"
 * shellQuote("it's");        // "'it'\\''s'"
 * ```
 */
export function shellQuote(word: string): string {
  if (word.includes("\0")) {
    throw new SpecError(`cannot put a NUL byte on a command line: ${JSON.stringify(word)}`, {
      code: "SPEC_PATH",
      advice: "remove the NUL byte",
    });
  }
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Split a command line into words the way a POSIX shell does for plain commands: blanks
 * separate words; single quotes keep everything; double quotes keep everything except
 * `\"`, `\\`, `\$`, `` \` `` and backslash-newline; a backslash outside quotes escapes the
 * next character (backslash-newline joins lines). Expansions (`$VAR`, globs) and shell
 * operators are not performed: they are kept literally. Throws `SPEC_PARSE` on an
 * unterminated quote.
 *
 * @example
 * ```ts
 * splitShellWords(`kvm -hda 'my disk.qcow2' -m 512`);   // ["kvm", "-hda", "my disk.qcow2", "-m", "512"]
 * ```
 */
export function splitShellWords(line: string): string[] {
  return scanShellLine(line).words;
}

/** Characters a shell reads as an operator when unquoted: lists, pipes, redirections, subshells. */
const OPERATOR_CHARS = ";&|<>()";

/**
 * {@link splitShellWords}, and the first piece of shell syntax a shell would act on
 * (`&&`, `;`, `|`, `>`, `$(...)`, `` `...` ``), if any: then the line is more than one
 * plain command. Throws `SPEC_PARSE` on an unterminated quote.
 *
 * @example
 * ```ts
 * scanShellLine("kvm -m 512 && echo ok");   // { words: ["kvm", "-m", "512", "&&", "echo", "ok"], syntax: "&&" }
 * scanShellLine("kvm -append 'a;b'");       // { words: ["kvm", "-append", "a;b"] }
 * ```
 */
export function scanShellLine(line: string): { words: string[]; syntax?: string } {
  const words: string[] = [];
  let syntax: string | undefined;
  let word = "";
  let inWord = false;
  let i = 0;
  const fail = (what: string) =>
    new SpecError(`unterminated ${what} in command line`, {
      code: "SPEC_PARSE",
      advice: "close the quote, or pass the words as an array",
      details: { line },
    });
  // Command substitution runs in double quotes too.
  const substitution = (at: number) =>
    line[at] === "`" ? "`...`" : line[at] === "$" && line[at + 1] === "(" ? "$(...)" : undefined;
  const operator = (at: number) => {
    const c = line[at];
    if (!OPERATOR_CHARS.includes(c)) return substitution(at);
    return c !== "(" && c !== ")" && line[at + 1] === c ? c + c : c;
  };
  while (i < line.length) {
    const c = line[i];
    if (c === "\\") {
      if (i + 1 >= line.length) throw fail("backslash escape");
      if (line[i + 1] !== "\n") {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw fail("single quote");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= line.length) throw fail("double quote");
        const d = line[i];
        if (d === '"') break;
        syntax ??= substitution(i);
        if (d === "\\" && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) {
          if (line[i + 1] !== "\n") word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else {
      syntax ??= operator(i);
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return syntax !== undefined ? { words, syntax } : { words };
}

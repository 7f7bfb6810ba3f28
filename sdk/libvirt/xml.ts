/**
 * A small XML writer for domain, pool and volume documents: elements as data, text and
 * attribute values escaped, nothing parsed. Pure.
 * @module
 */

/** One element: name, attributes (undefined ones are left out), children or text. */
export interface XmlNode {
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string | number | undefined>>;
  readonly children?: readonly (XmlNode | undefined | false)[];
  readonly text?: string;
}

/** Escapes text and attribute values (`&`, `<`, `>`, quotes). */
export function xmlEscape(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** Shorthand for an element. */
export function el(name: string, attrs: XmlNode["attrs"] = {}, children: XmlNode["children"] | string = []): XmlNode {
  return typeof children === "string" ? { name, attrs, text: children } : { name, attrs, children };
}

/** Renders a node tree, two spaces per level. */
export function renderXml(node: XmlNode, indent = ""): string {
  const attrs = Object.entries(node.attrs ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join("");
  const open = `${indent}<${node.name}${attrs}`;
  if (node.text !== undefined) return `${open}>${xmlEscape(node.text)}</${node.name}>\n`;
  const kids = (node.children ?? []).filter((c): c is XmlNode => Boolean(c));
  if (kids.length === 0) return `${open}/>\n`;
  return `${open}>\n${kids.map((k) => renderXml(k, `${indent}  `)).join("")}${indent}</${node.name}>\n`;
}

/**
 * Reads the text of the first `<name>` element, or an attribute of it, from libvirt's own
 * output (dumpxml, pool-dumpxml); enough for the few values qemukit reads back.
 */
export function xmlText(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

/** The value of `attr` on the first `<name ...>` element. */
export function xmlAttr(xml: string, name: string, attr: string): string | undefined {
  const tag = new RegExp(`<${name}\\s[^>]*>`).exec(xml)?.[0];
  if (!tag) return undefined;
  const m = new RegExp(`\\s${attr}=(["'])([^"']*)\\1`).exec(tag);
  return m ? unescapeXml(m[2]!) : undefined;
}

function unescapeXml(s: string): string {
  return s
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}

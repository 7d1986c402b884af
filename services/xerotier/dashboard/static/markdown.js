// A model card's Markdown as DOM nodes, sanitised by construction: every piece of text becomes a text
// node (never innerHTML), raw HTML in the card is shown as text, and links keep http(s) targets only.
// Covers what model cards use: headings, paragraphs, lists, block quotes, fenced and indented code,
// rules, tables (as preformatted text), **bold**, *emphasis*, `code` and [links](https://…).
import { h } from "./dom.js";

const SAFE_URL = /^https?:\/\//i;

/** Inline Markdown of one paragraph as an array of nodes and strings. */
export function inline(text) {
  const out = [];
  const pattern = /(`[^`]+`)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|_([^_\s][^_]*)_|!?\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h("code", {}, m[1].slice(1, -1)));
    else if (m[2] || m[3]) out.push(h("strong", {}, inline(m[2] || m[3])));
    else if (m[4] || m[5]) out.push(h("em", {}, inline(m[4] || m[5])));
    else if (m[0].startsWith("!")) out.push(`[image: ${m[6] || m[7]}]`); // no remote images (CSP, privacy)
    else if (SAFE_URL.test(m[7])) out.push(h("a", { href: m[7], rel: "noopener noreferrer nofollow", target: "_blank" }, inline(m[6])));
    else out.push(m[6]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Block-level Markdown → an array of elements. */
export function renderMarkdown(source) {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const blocks = [];
  let i = 0;
  const isBlank = (l) => l.trim() === "";
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i += 1;
    } else if (/^\s*(```|~~~)/.test(line)) {
      const fence = line.trim().slice(0, 3);
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) code.push(lines[i++]);
      i += 1;
      blocks.push(h("pre", {}, h("code", {}, code.join("\n"))));
    } else if (/^ {4}|^\t/.test(line)) {
      const code = [];
      while (i < lines.length && (/^ {4}|^\t/.test(lines[i]) || isBlank(lines[i]))) code.push(lines[i++].replace(/^ {4}|^\t/, ""));
      blocks.push(h("pre", {}, h("code", {}, code.join("\n").trimEnd())));
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)[0].length + 2); // the page has h1/h2 already
      blocks.push(h(`h${level}`, {}, inline(line.replace(/^#+\s*/, "").replace(/\s#+\s*$/, ""))));
      i += 1;
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push(h("hr"));
      i += 1;
    } else if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ""));
      blocks.push(h("blockquote", {}, renderMarkdown(quoted.join("\n"))));
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items = [];
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) {
        let item = lines[i++].replace(/^\s*([-*+]|\d+[.)])\s+/, "");
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i])) item += ` ${lines[i++].trim()}`;
        items.push(h("li", {}, inline(item)));
      }
      blocks.push(h(ordered ? "ol" : "ul", {}, items));
    } else if (/^\s*\|/.test(line)) {
      const rows = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) rows.push(lines[i++]);
      blocks.push(h("pre", { class: "md-table" }, rows.join("\n")));
    } else {
      const para = [];
      while (i < lines.length && !isBlank(lines[i]) && !/^(#{1,6}\s|\s*```|\s*~~~|\s*>|\s*([-*+]|\d+[.)])\s+)/.test(lines[i])) para.push(lines[i++].trim());
      blocks.push(h("p", {}, inline(para.join(" "))));
    }
  }
  return blocks;
}

// Markdown helpers for the tests that keep docs/ true to the code (docs-protocol.test.ts,
// docs-citations.test.ts): lines with their fenced-code state, and GitHub's heading anchors.

/** Each line, and whether it is inside (or opens or closes) a fenced code block. */
export function lines(markdown: string): { text: string; fenced: boolean }[] {
  let fenced = false;
  return markdown.split('\n').map((text) => {
    if (text.startsWith('```')) {
      fenced = !fenced;
      return { text, fenced: true };
    }
    return { text, fenced };
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every heading's anchor; GitHub numbers repeated headings x, x-1, x-2, ... */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const l of lines(markdown)) {
    const m = !l.fenced && /^#{1,6}\s+(.*)$/.exec(l.text);
    if (!m) continue;
    let anchor = githubAnchor(m[1]!);
    for (let n = 1; anchors.has(anchor); n++) anchor = `${githubAnchor(m[1]!)}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

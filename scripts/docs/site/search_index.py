"""search_index.py — the docs site's search index (build.py fills it, search.js reads it).

One entry per section of every Markdown page (heading to heading; the page's top is one entry)
and per function of every source page: [page, #anchor, page title, heading, lang]. The index maps
each term to the entries it occurs in, with a count when it occurs more than once. Terms are
lower-case words (an identifier also by its parts) and, for Chinese, character pairs; search.js
splits a query the same way. Written as a script (search-index.js), since a page opened from
file:// may load a script but not fetch a JSON file. Standard library only.
"""
import collections
import html
import json
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CJK_RUN = re.compile(r"[\u2e80-\u2fff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[a-z0-9][a-z0-9_]*")


def search_terms(text):
    """The terms a text is found by, with how often each occurs: lower-case words (an
    identifier also by its parts, evconnlistener_new_bind by evconnlistener), and Chinese as
    character bigrams (a lone character as itself), since Chinese has no spaces between words.
    search.js splits a query the same way."""
    text = text.lower()
    terms = collections.Counter()
    for w in WORD.findall(text):
        if len(w) > 1:
            terms[w] += 1
        if "_" in w:
            terms.update(p for p in w.split("_") if len(p) > 1)
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            terms[run] += 1
        terms.update(run[k:k + 2] for k in range(len(run) - 1))
    return terms




class SearchIndex:
    def __init__(self):
        self.docs, self.terms = [], {}

    def add(self, entry, text):
        terms = search_terms(text)
        if not terms:
            return
        n = len(self.docs)
        self.docs.append(entry)
        for t, c in terms.items():  # an entry's number, or [number, count] when there more than once
            self.terms.setdefault(t, []).append(n if c == 1 else [n, c])

    def add_page(self, rel_out, page_title, body, zh):
        """A Markdown page as built (HTML): each section (h2, h3) an entry; code blocks left out."""
        text = re.sub(r"<pre\b.*?</pre>", " ", body, flags=re.S)
        parts = re.split(r'<h([1-3]) id="([^"]*)">(.*?)</h\1>', text, flags=re.S)
        # parts: [before, level, id, heading, after, level, id, heading, after, ...]
        sections = [("", page_title, parts[0])]  # the page's top (title, before the first h2)
        for k in range(1, len(parts), 4):
            heading = html.unescape(re.sub(r"<[^>]+>", "", parts[k + 2])).strip()
            if parts[k] == "1":
                sections[0] = ("", page_title, sections[0][2] + " " + heading + " " + parts[k + 3])
            else:
                sections.append((parts[k + 1], heading, parts[k + 3]))
        for anchor, heading, chunk in sections:
            words = html.unescape(re.sub(r"<[^>]+>", " ", chunk))
            self.add([rel_out, anchor, page_title, heading if heading != page_title else "",
                      "zh" if zh else "en"], heading + " " + words)

    def add_source(self, rel, rel_out, secs):
        """A source page: an entry per function (its name, and the comment above it with the
        first one); a comment with no function after it, by itself. Not the code itself: the
        chapter pages quote what matters of it."""
        for s in secs:
            names = [i for i in s["ids"] if not i.startswith("region-")]
            if s["prose"] is None and not names:
                continue
            for k, name in enumerate(names or [""]):
                anchor = name or f"L{s['prose_lines'][0]}"
                self.add([rel_out, anchor, rel, name, "en"],
                         name + " " + (s["prose"] or "" if k == 0 else ""))

    def write(self, out):
        """search-index.js, and search.js beside it."""
        idx = {"docs": self.docs, "terms": dict(sorted(self.terms.items()))}
        with open(os.path.join(out, "search-index.js"), "w", encoding="utf-8") as f:
            f.write("window.WORKBOOK_SEARCH = " + json.dumps(idx, ensure_ascii=False,
                                                             separators=(",", ":")) + ";\n")
        shutil.copyfile(os.path.join(HERE, "search.js"), os.path.join(out, "search.js"))

#!/usr/bin/python3
"""build.py — the workbook's offline docs site (make docs), from the Markdown and the C sources.

    scripts/docs/site/build.py build [OUT]   the site into OUT (build/site): every page, no network
    scripts/docs/site/build.py sync          rewrite the ```c blocks under <!-- code: --> from the source
    scripts/docs/site/build.py check-md      fail if a page shows C not pulled from a region, or a
                                        marked block differs from its region (committed drift)

Why this shape (docs/site.md says more): pandoc (Debian's) turns each page's GitHub-flavoured
Markdown into HTML, so the pages render as on GitHub; Pygments (python3-pygments) colours the
code; this script only does what no packaged tool does for us — fill code regions, lay out the
C files side by side (annotate.py), rewrite links between .md/.c files to the site's .html pages,
put the same header (chapter nav, search box, language switch) on every page, a contents box and
previous/next links on the chapter pages, and write the search index (search.js reads it).
Beside it: annotate.py (comments from code), prose.py (a comment's text as HTML), regions.py
(code regions), highlight.py (colours), search_index.py (the index), svgtext.py (pictures' text
size), cjk.lua (a pandoc filter: line breaks in Chinese paragraphs do not become spaces),
search.js and site.css. Standard library otherwise.
"""
import concurrent.futures
import html
import math
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import annotate  # noqa: E402
import casts  # noqa: E402  (each chapter page's recorded lesson and timeline)
import regions  # noqa: E402
import svgtext  # noqa: E402
from highlight import highlight_blocks, token_lines  # noqa: E402
from prose import prose_html  # noqa: E402
from search_index import CJK_RUN, SearchIndex  # noqa: E402

try:
    from pygments import lex
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import CLexer, get_lexer_by_name, get_lexer_for_filename
    from pygments.util import ClassNotFound
except ImportError:  # `need` says what to install
    lex = None

HERE = os.path.dirname(os.path.abspath(__file__))
CHAPTER_DIR = re.compile(r"^[0-9][0-9]_[^/]+$")
CHAPTER_PAGE = re.compile(r"^([0-9][0-9])-.*\.md$")
FIGURE_MIN_PX = 14  # a picture's smallest text on the page, at most widths (docs-check checks it)
IMAGE_EXT = (".svg", ".png", ".jpg", ".jpeg", ".gif")
ZH = "docs/zh"


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


class Repo:
    def __init__(self, root):
        self.root = root
        self.chapters = sorted(d for d in os.listdir(root)
                               if CHAPTER_DIR.match(d) and os.path.isdir(os.path.join(root, d)))
        # every .c/.h of the chapters, common/, tools/ and the model chapter of
        # docs/adding-a-chapter.md: side-by-side pages
        self.sources = []
        for d in self.chapters + ["common", "tools", "tests/fixtures/99_hello"]:
            full = os.path.join(root, d)
            if os.path.isdir(full):
                self.sources += sorted(f"{d}/{f}" for f in os.listdir(full) if f.endswith((".c", ".h")))

    def exists(self, rel):
        return os.path.exists(os.path.join(self.root, rel))

    def read(self, rel):
        with open(os.path.join(self.root, rel), encoding="utf-8") as f:
            return f.read()

    def md_pages(self):
        pages = ["README.md"]
        for d in ("docs", "docs/notes", ZH):
            full = os.path.join(self.root, d)
            if os.path.isdir(full):
                pages += sorted(f"{d}/{f}" for f in os.listdir(full) if f.endswith(".md"))
        return [p for p in pages if self.exists(p)]


def out_path(repo, rel):
    """Where the page for repo file rel goes in the site."""
    if rel == "README.md":
        return "index.html"
    if rel == f"{ZH}/README.md":
        return f"{ZH}/index.html"
    if rel.endswith(".md"):
        return rel[:-3] + ".html"
    if rel.lower().endswith(IMAGE_EXT):
        return rel
    if os.path.isdir(os.path.join(repo.root, rel)):
        return rel.rstrip("/") + "/index.html"
    return rel + ".html"


def rel_href(from_out, to_out):
    return os.path.relpath(to_out, os.path.dirname(from_out) or ".")


def zh_counterpart(rel):
    """The Chinese page for an English page, and the other way round (None: no such pairing)."""
    if rel == "README.md":
        return f"{ZH}/README.md"
    if rel == f"{ZH}/README.md":
        return "README.md"
    if rel.startswith(ZH + "/"):
        return "docs/" + rel[len(ZH) + 1:]
    if rel.startswith("docs/") and rel.count("/") == 1:
        return f"{ZH}/" + rel[5:]
    if rel.endswith(".zh.md"):
        return rel[:-6] + ".md"
    if rel.endswith(".md"):
        return rel[:-3] + ".zh.md"
    return None


def is_zh(rel):
    return rel.startswith(ZH + "/") or rel.endswith(".zh.md")


# ---- page frame --------------------------------------------------------------------------------

def short_title(title):
    t = re.sub(r"^Chapter \d+ — ", "", title)
    t = re.sub(r"^第\s*\d+\s*章\s*[—:：-]*\s*", "", t)
    return re.split(r"[:?,：？，]| — ", t)[0].strip() or title


class Site:
    def __init__(self, repo, out):
        self.repo, self.out = repo, out
        self.titles = {}  # md rel -> title (first heading)
        self.wanted = set()  # other repo files and folders the pages link to
        self.source_funcs = {}  # source rel -> {function name}
        self.css = "site.css"
        self.search = SearchIndex()  # every page adds its sections

    def write(self, rel_out, text):
        full = os.path.join(self.out, rel_out)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)

    def nav_items(self, zh):
        """[(label, md rel)]: the chapters, then errata, answers, teaching (those present)."""
        items = []
        docs = os.path.join(self.repo.root, "docs")
        for f in sorted(os.listdir(docs)):
            m = CHAPTER_PAGE.match(f)
            if m:
                items.append((str(int(m.group(1))), f"docs/{f}"))
        for name in ("errata", "answers", "teaching"):
            if self.repo.exists(f"docs/{name}.md"):
                items.append((None, f"docs/{name}.md"))
        if zh:  # Chinese pages with no English one (a glossary): at the end of the Chinese nav
            zdir = os.path.join(self.repo.root, ZH)
            for f in sorted(os.listdir(zdir)) if os.path.isdir(zdir) else []:
                rel = f"{ZH}/{f}"
                if f.endswith(".md") and f != "README.md" and not self.repo.exists(zh_counterpart(rel)):
                    items.append((None, rel))
        out = []
        fixed = {"docs/errata.md": ("errata", "勘误"), "docs/answers.md": ("answers", "答案"),
                 "docs/teaching.md": ("teaching", "教学")}
        for num, rel in items:
            en = rel
            if zh and self.repo.exists(zh_counterpart(rel)):
                rel = zh_counterpart(rel)
            label = fixed[en][zh] if en in fixed else short_title(self.titles.get(rel, rel))
            out.append((f"{num} {label}" if num else label, rel))
        return out

    def chapter_pages(self, zh):
        """The chapter pages of one language in reading order: docs/NN-*.md or docs/zh/NN-*.md,
        whatever is there (a new chapter's page joins by being added)."""
        d = ZH if zh else "docs"
        full = os.path.join(self.repo.root, d)
        return [f"{d}/{f}" for f in sorted(os.listdir(full)) if CHAPTER_PAGE.match(f)] \
            if os.path.isdir(full) else []

    def pager(self, rel, rel_out, zh):
        """Previous / next chapter links (the first chapter's previous and the last one's next
        is the contents page), or "" for a page that is not a chapter."""
        seq = self.chapter_pages(zh)
        if rel not in seq:
            return ""
        home = f"{ZH}/README.md" if zh and self.repo.exists(f"{ZH}/README.md") else "README.md"
        k = seq.index(rel)
        prev = seq[k - 1] if k > 0 else home
        nxt = seq[k + 1] if k + 1 < len(seq) else home
        words = ("上一章", "下一章", "目录") if zh else ("Previous", "Next", "Contents")

        def link(target, rel_attr, word, arrow_first):
            name = words[2] if target == home else self.titles.get(target, target)
            href = rel_href(rel_out, out_path(self.repo, target))
            text = (f'<span class="dir">{"← " + word if arrow_first else word + " →"}</span> '
                    f'<span class="to">{html.escape(name)}</span>')
            return f'<a rel="{rel_attr}" href="{html.escape(href)}">{text}</a>'
        return (f'<nav class="pager" aria-label="{"章节" if zh else "chapters"}">'
                f'{link(prev, "prev", words[0], True)}{link(nxt, "next", words[1], False)}</nav>')

    def frame(self, rel_out, title, body, lang, switch_to, source_rel=None, kind="page"):
        """One page: header (home, chapter nav, language switch), then body."""
        zh = lang == "zh"
        home = f"{ZH}/README.md" if zh and self.repo.exists(f"{ZH}/README.md") else "README.md"
        nav = [f'<a class="home" href="{rel_href(rel_out, out_path(self.repo, home))}">'
               f'{"libevent 工作手册" if zh else "The libevent workbook"}</a>']
        for label, rel in self.nav_items(zh):
            target = out_path(self.repo, rel)
            cur = ' aria-current="page"' if target == rel_out else ""
            nav.append(f'<a href="{rel_href(rel_out, target)}"{cur}>{html.escape(label)}</a>')
        if switch_to and self.repo.exists(switch_to):
            href = rel_href(rel_out, out_path(self.repo, switch_to))
        elif zh:  # a Chinese page with no English one: the English home
            href = rel_href(rel_out, "index.html")
        else:
            href = rel_href(rel_out, "zh-missing.html")
        label = "English" if zh else "中文"
        root = html.escape(rel_href(rel_out, "index.html")[:-len("index.html")] or "./")
        hint = "搜索（中英文）" if zh else "Search (English, 中文)"
        search = (f'<div class="search" role="search"><input type="search" id="search-box" '
                  f'placeholder="{hint}" aria-label="{hint}" autocomplete="off" spellcheck="false">'
                  f'<ol id="search-results" hidden></ol></div>')
        switch = f'<a class="lang" hreflang="{"en" if zh else "zh"}" href="{href}">{label}</a>'
        return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if zh else 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{rel_href(rel_out, self.css)}">
<script src="{rel_href(rel_out, "search.js")}" data-root="{root}" defer></script>
</head>
<body class="{kind}">
<header class="top"><nav>{' '.join(nav)}</nav>{search}{switch}</header>
<main>
{body}
</main>
</body>
</html>
"""

    # ---- Markdown pages ------------------------------------------------------------------------

    def rewrite_links(self, rel, rel_out, body):
        base = os.path.dirname(rel)

        def repl(m):
            attr, href = m.group(1), html.unescape(m.group(2))
            if re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I) or href.startswith("#") or not href:
                return m.group(0)
            path, _, frag = href.partition("#")
            target = os.path.normpath(os.path.join(base, path))
            if target.startswith("..") or not self.repo.exists(target):
                return m.group(0)  # left as written: make docs-check reports it
            if target in self.repo.sources:
                pass
            elif target.endswith(".md"):
                self.wanted.add(target)  # built in the next batch of pages (exercises/README.md)
            elif os.path.isdir(os.path.join(self.repo.root, target)) or \
                    not target.lower().endswith(IMAGE_EXT):
                self.wanted.add(target)
            else:
                self.wanted.add(target)  # an image: copied as it is
            new = rel_href(rel_out, out_path(self.repo, target)) + (f"#{frag}" if frag else "")
            return f'{attr}="{html.escape(new)}"'
        return re.sub(r'\b(href|src)="([^"]*)"', repl, body)

    def chapter_folder(self, rel):
        m = CHAPTER_PAGE.match(os.path.basename(rel))
        if not m or not (rel.startswith("docs/") and rel.count("/") in (1, 2)):
            return None
        return next((c for c in self.repo.chapters if c.startswith(m.group(1) + "_")), None)

    def autolink_functions(self, folder, rel_out, body):
        """`on_accept` in a chapter page links to its definition in the chapter's source."""
        where = {}
        for src in self.repo.sources:
            if src.startswith(folder + "/"):
                for name in self.source_funcs.get(src, ()):
                    where.setdefault(name, []).append(src)
        unique = {n: s[0] for n, s in where.items() if len(s) == 1}

        def link_codes(chunk):
            def repl(m):
                src = unique.get(m.group(1))
                if not src:
                    return m.group(0)
                href = rel_href(rel_out, out_path(self.repo, src)) + "#" + m.group(1)
                return f'<a class="fn" href="{href}">{m.group(0)}</a>'
            return re.sub(r"<code>([A-Za-z_]\w*)(?:\(\))?</code>", repl, chunk)
        parts = re.split(r"(<pre\b.*?</pre>|<a\b.*?</a>)", body, flags=re.S)
        return "".join(p if k % 2 else link_codes(p) for k, p in enumerate(parts))

    def source_box(self, folder, rel_out, zh):
        files = [s for s in self.repo.sources if s.startswith(folder + "/")]
        if not files:
            return ""
        links = " · ".join(f'<a href="{rel_href(rel_out, out_path(self.repo, s))}">'
                           f"{html.escape(os.path.basename(s))}</a>" for s in files)
        label = "源代码（注释与代码并排）：" if zh else "Annotated source, side by side:"
        return f'<p class="sources">{label} {links}</p>'

    def size_pictures(self, rel, body):
        """An SVG whose smallest text would be under FIGURE_MIN_PX at its own size is shown wider,
        just enough (svgtext.py): at 1280 px the figure may be up to 1220 px wide, so a picture
        drawn with 10-point labels is still readable on a projector. (make docs-check measures
        the result; a picture too wide for that must be drawn with bigger text or narrower.)"""
        base = os.path.dirname(rel)

        def repl(m):
            src = html.unescape(m.group(2))
            path = os.path.normpath(os.path.join(self.repo.root, base, src))
            if not path.endswith(".svg") or not os.path.isfile(path) or " width=" in m.group(0):
                return m.group(0)
            font, width = svgtext.smallest_text(path)
            if not font:
                return m.group(0)
            need = width * FIGURE_MIN_PX / font  # px wide for the smallest text to be FIGURE_MIN_PX
            natural = svgtext.natural_width_px(path)
            if natural and natural >= need:
                return m.group(0)
            return f'{m.group(1)} width="{math.ceil(need) + 1}"{m.group(3)}'
        return re.sub(r'(<img src="([^"]+)")([^>]*>)', repl, body)

    def title_of(self, rel):
        if rel not in self.titles:
            self.titles[rel] = first_heading(self.repo.read(rel), rel)
        return self.titles[rel]

    def link_titles(self, rel, body):
        """A link whose text is the path of the page it leads to ([`docs/errata.md`](errata.md))
        shows that page's title instead; the path stays in its tooltip. In a table cell, the
        title up to its first colon or question mark ("Chapter 1 — the listener"), to keep the
        column narrow."""
        cells = re.split(r"(<td\b[^>]*>.*?</td>)", body, flags=re.S)
        return "".join(self._link_titles(rel, c, k % 2 == 1) for k, c in enumerate(cells))

    def _link_titles(self, rel, body, short):
        base = os.path.dirname(rel)

        def repl(m):
            before, href, text, after = m.group(1) or "", html.unescape(m.group(2)), m.group(3), m.group(4) or ""
            plain = html.unescape(re.sub(r"</?code>", "", text)).strip()
            path, _, frag = href.partition("#")
            ppath, _, pfrag = plain.partition("#")
            if not path.endswith(".md") or re.match(r"^[a-z][a-z0-9+.-]*:", path, re.I) or \
                    not ppath.endswith(".md") or os.path.basename(ppath) != os.path.basename(path) or \
                    pfrag != frag:
                return m.group(0)
            target = os.path.normpath(os.path.join(base, path))
            if target.startswith("..") or not self.repo.exists(target):
                return m.group(0)
            # docs/answers.md#ex-1-3: the heading there ("1.3 What breaks without ..."); else the title
            title = section_heading(self.repo.read(target), frag) if frag else self.title_of(target)
            if not title or title == target:
                return m.group(0)
            if short:
                title = re.split(r"[:?：？]", title)[0].strip() or title
            if is_zh(rel):  # a Chinese title between Chinese words: no spaces (cjk.lua's rule)
                before = "" if CJK_RUN.match(title) else before
                after = "" if CJK_RUN.match(title[-1]) else after
            return (f'{before}<a href="{m.group(2)}" title="{html.escape(plain)}">'
                    f"{html.escape(title, quote=False)}</a>{after}")
        return re.sub(r'((?<=[\u3001-\u303f\u3400-\u9fff\uff01-\uff60]) )?<a href="([^"]*)">'
                      r'((?:<code>)?[^<>]*(?:</code>)?)</a>( (?=[\u3001-\u303f\u3400-\u9fff\uff01-\uff60]))?',
                      repl, body)

    @staticmethod
    def toc(body, zh):
        """"On this page": the page's h2 headings, with their h3s under them."""
        heads = re.findall(r'<h([23]) id="([^"]+)">(.*?)</h\1>', body, flags=re.S)
        if sum(1 for h in heads if h[0] == "2") < 2:
            return ""
        items, open_sub = [], False
        for level, hid, text in heads:
            text = re.sub(r"<(?!/?code\b)[^>]+>", "", text)  # no links inside the toc's links
            a = f'<a href="#{hid}">{text}</a>'
            if level == "2":
                if open_sub:
                    items.append("</ol></li>")
                    open_sub = False
                elif items:
                    items.append("</li>")
                items.append(f"<li>{a}")
            elif items:  # an h3 under the last h2
                if not open_sub:
                    items.append("<ol>")
                    open_sub = True
                items.append(f"<li>{a}</li>")
        items.append("</ol></li>" if open_sub else "</li>")
        label = "本页目录" if zh else "On this page"
        return (f'<nav class="toc" aria-label="{label}"><details open><summary>{label}</summary>'
                f'<ol>{"".join(items)}</ol></details></nav>')

    def md_page(self, rel, pandoc_html):
        rel_out = out_path(self.repo, rel)
        zh = is_zh(rel)
        body = self.link_titles(rel, pandoc_html)
        body = self.rewrite_links(rel, rel_out, body)
        body = highlight_blocks(body)
        # a picture alone in its paragraph may be wider than the text column (site.css)
        body = re.sub(r"<p>(<img [^>]*>)</p>", r'<p class="figure">\1</p>', body)
        body = self.size_pictures(rel, body)
        self.search.add_page(rel_out, self.titles.get(rel, rel), body, zh)
        body = casts.embed(self.repo.root, rel, rel_out, body)
        folder = self.chapter_folder(rel)
        if folder:
            body = self.autolink_functions(folder, rel_out, body)
            box = self.source_box(folder, rel_out, zh)
            body = re.sub(r"(</h1>)", r"\1" + box.replace("\\", "\\\\"), body, count=1)
        pager = self.pager(rel, rel_out, zh)
        top = self.toc(body, zh) + pager.replace('class="pager"', 'class="pager top"')
        if "</h1>" in body:
            end = body.index("</h1>") + len("</h1>")
            box_end = body.find("</p>", end) + 4 if body.startswith('<p class="sources">', end) else end
            body = body[:box_end] + top + body[box_end:]
        else:
            body = top + body
        body += pager
        title = self.titles.get(rel, rel)
        self.write(rel_out, self.frame(rel_out, title, body, "zh" if zh else "en",
                                       zh_counterpart(rel), kind="doc"))

    # ---- side-by-side source pages -------------------------------------------------------------

    def source_page(self, rel):
        text = self.repo.read(rel)
        try:
            regs, markers = regions.parse_regions(rel, text)
        except regions.RegionError as e:
            die(str(e))
        secs, lines, funcs = annotate.sections(text)
        self.source_funcs[rel] = set(funcs.values())
        code_html = token_lines("\n".join(lines), CLexer(stripnl=False, ensurenl=False))
        rel_out = out_path(self.repo, rel)
        rows = []
        for s in secs:
            ids = "".join(f' id="{html.escape(i)}"' for i in s["ids"][:1])
            extra = "".join(f'<span id="{html.escape(i)}"></span>' for i in s["ids"][1:])
            prose = ""
            if s["prose"] is not None:
                a, b = s["prose_lines"]
                rng = f"{a}" if a == b else f"{a}–{b}"
                prose = (f'<a class="prose-lines" id="L{a}" href="#L{a}" title="lines {rng} of {rel}">'
                         f"{rng}</a>" + prose_html(s["prose"]))
            code = []
            for i in s["code"]:
                n = i + 1
                cls = "line"
                anchor = ""
                if n in markers:
                    cls = "line marker"
                    if markers[n]:
                        anchor = f'<span class="region-anchor" id="region-{html.escape(markers[n])}"></span>'
                        if markers[n] not in funcs.values():  # #NAME works too, when no function has it
                            anchor += f'<span class="region-anchor" id="{html.escape(markers[n])}"></span>'
                code.append(f'<span class="{cls}" id="L{n}">{anchor}<a class="lno" href="#L{n}">{n}</a>'
                            f'<span class="txt">{code_html[i]}</span></span>')
            rows.append(f'<section class="sec"{ids}><div class="prose">{extra}{prose}</div>'
                        f'<div class="code"><pre>' + "".join(code) + "</pre></div></section>")
        self.search.add_source(rel, rel_out, secs)
        folder = rel.split("/")[0]
        chapter = next((p for p in (f"docs/{f}" for f in sorted(os.listdir(
            os.path.join(self.repo.root, "docs")))) if self.chapter_folder(p) == folder), None)
        head = [f'<h1><a href="{rel_href(rel_out, out_path(self.repo, folder))}">{folder}</a>'
                f" / {html.escape(os.path.basename(rel))}</h1>"]
        facts = []
        if chapter:
            facts.append(f'chapter page: <a href="{rel_href(rel_out, out_path(self.repo, chapter))}">'
                         f"{html.escape(short_title(self.titles.get(chapter, chapter)))}</a>")
        facts.append(f"{len(lines)} lines; comments on the left, the code they describe on the right")
        head.append(f'<p class="facts">{"; ".join(facts)}</p>')
        jumps = [f'<a href="#{n}">{n}</a>' for _, n in sorted(funcs.items())]
        jumps += [f'<a class="rgl" href="#region-{n}">region {n}</a>' for n in sorted(regs)]
        if jumps:
            head.append(f'<p class="jumps">{" ".join(jumps)}</p>')
        self.wanted.add(folder)
        body = "\n".join(head) + '\n<div class="src">\n' + "\n".join(rows) + "\n</div>"
        self.write(rel_out, self.frame(rel_out, rel, body, "en", None, rel, kind="source"))

    # ---- other files: folders, plain files, images ---------------------------------------------

    def plain_page(self, rel):
        rel_out = out_path(self.repo, rel)
        try:
            text = self.repo.read(rel)
        except UnicodeDecodeError:
            text = "(binary file)"
        try:
            lexer = get_lexer_for_filename(rel.replace(".bats", ".sh"), stripnl=False, ensurenl=False)
        except ClassNotFound:
            lexer = get_lexer_by_name("text", stripnl=False, ensurenl=False)
        lines = token_lines(text.rstrip("\n"), lexer)
        code = "".join(f'<span class="line" id="L{n}"><a class="lno" href="#L{n}">{n}</a>'
                       f'<span class="txt">{t}</span></span>' for n, t in enumerate(lines, 1))
        body = f'<h1>{html.escape(rel)}</h1>\n<div class="plain"><pre>{code}</pre></div>'
        self.write(rel_out, self.frame(rel_out, rel, body, "en", None, kind="file"))

    def folder_page(self, rel):
        rel_out = out_path(self.repo, rel)
        full = os.path.join(self.repo.root, rel)
        items = []
        for f in sorted(os.listdir(full)):
            sub = f"{rel}/{f}"
            if f.startswith(".") or f.endswith((".o", ".a", ".d")) or \
                    (CHAPTER_DIR.match(rel) and "." not in f):
                continue  # build products (programs have no dot in their name)
            if os.path.isdir(os.path.join(full, f)):
                continue
            if sub not in self.repo.sources and not sub.endswith(".md"):
                self.wanted.add(sub)
            note = " — side by side" if sub in self.repo.sources else ""
            items.append(f'<li><a href="{rel_href(rel_out, out_path(self.repo, sub))}">'
                         f"{html.escape(f)}</a>{note}</li>")
        body = f"<h1>{html.escape(rel)}/</h1>\n<ul class=\"files\">{''.join(items)}</ul>"
        self.write(rel_out, self.frame(rel_out, rel, body, "en", None, kind="folder"))

    def missing_page(self):
        zh_home = f"{ZH}/README.md"
        back = (f'<a href="{out_path(self.repo, zh_home)}">中文版目录</a> · ' if self.repo.exists(zh_home)
                else "")
        body = ('<h1 lang="zh-CN">这一页还没有中文版</h1>\n<p lang="zh-CN">这一页（或这个源文件的注释）'
                "目前只有英文版。请用浏览器的“后退”回到原来的页面。</p>\n"
                "<p>This page has no Chinese version yet. Use the browser's Back button to return.</p>\n"
                f'<p>{back}<a href="index.html">English home</a></p>')
        self.write("zh-missing.html", self.frame("zh-missing.html", "没有中文版 / not translated yet",
                                                 body, "zh", "README.md", kind="note"))


def pandoc(text, zh=False):
    env = dict(os.environ, WORKBOOK_LANG="zh" if zh else "en")  # cjk.lua reads it
    try:
        r = subprocess.run(["pandoc", "-f", "gfm", "-t", "html5", "--no-highlight", "--wrap=none",
                            "--lua-filter", os.path.join(HERE, "cjk.lua")],
                           input=text, capture_output=True, text=True, check=False, env=env)
    except FileNotFoundError:
        die("docs: pandoc is missing: apt-get install pandoc (scripts/deps.sh docs)")
    if r.returncode:
        raise SystemExit(f"docs: pandoc failed: {r.stderr.strip()}")
    return r.stdout


def section_heading(text, frag):
    """The heading an #anchor of a Markdown page names: after an <a id="frag"></a>, or the
    heading whose GitHub-style anchor is frag; None if there is none."""
    m = re.search(r'<a id="' + re.escape(frag) + r'"></a>\s*\n#+ (.+)', text)
    if m:
        return re.sub(r"[`*]", "", m.group(1)).strip()
    for h in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", re.sub(r"[`*]", "", h).strip().lower()).replace(" ", "-")
        if slug == frag:
            return re.sub(r"[`*]", "", h).strip()
    return None


def first_heading(text, default):
    m = re.search(r"^# (.+)$", text, re.M)
    return re.sub(r"[`*]", "", m.group(1)).strip() if m else default


def site_css():
    with open(os.path.join(HERE, "site.css"), encoding="utf-8") as f:
        css = f.read()
    return css + "\n/* Pygments (style: default), for the code */\n" + \
        HtmlFormatter(style="default").get_style_defs([".hl", ".code", ".plain"])


def fill_all(repo, pages):
    """{page: filled Markdown}, or die naming the first missing region."""
    filled = {}
    for rel in pages:
        try:
            filled[rel], _ = regions.fill_markdown(repo.root, rel, repo.read(rel))
        except regions.RegionError as e:
            die(str(e))
    return filled


def caption_markers(repo, rel, text):
    """Before each marked block, a line naming the region and linking to it in the source page."""
    base = os.path.dirname(rel)

    def repl(m):
        path, name = m.group(1), m.group(2)
        _, first, last = regions.region_text(repo.root, f"{path}#{name}", rel)
        href = os.path.relpath(path, base or ".") + f"#region-{name}"
        where = f"第 {first}–{last} 行" if is_zh(rel) else f"lines {first}–{last}"
        return f'<p class="excerpt"><a href="{href}">{html.escape(path)}</a>, {where}</p>\n'
    return re.sub(r"^<!-- code: ([^#\s]+)#([A-Za-z0-9_.-]+) -->[ \t]*$", repl, text, flags=re.M)


def build(repo, out):
    pages = repo.md_pages()
    filled = fill_all(repo, pages)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    site = Site(repo, out)
    with open(os.path.join(out, "site.css"), "w", encoding="utf-8") as f:
        f.write(site_css())
    casts.copy_assets(repo.root, out)
    for rel in pages:
        site.titles[rel] = first_heading(filled[rel], rel)
    for rel in repo.sources:  # first: the chapter pages link to their functions
        site.source_page(rel)
    done = set()
    batch = list(pages)
    while batch:  # the pages, then the .md files they link to (exercises/README.md, ...)
        texts = {}
        for rel in batch:
            done.add(rel)
            texts[rel] = filled.get(rel) or repo.read(rel)
            site.titles.setdefault(rel, first_heading(texts[rel], rel))
        # pandoc takes about a second to start here: run a few at once
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            htmls = dict(zip(batch, pool.map(lambda r: pandoc(caption_markers(repo, r, texts[r]), is_zh(r)), batch)))
        for rel in batch:
            site.md_page(rel, htmls[rel])
        batch = sorted(w for w in site.wanted if w.endswith(".md") and w not in done)
    for c in repo.chapters:
        site.wanted.add(c)
    finished = set()
    while site.wanted - finished:
        for rel in sorted(site.wanted - finished):
            finished.add(rel)
            full = os.path.join(repo.root, rel)
            if rel.endswith(".md") or rel in repo.sources:
                continue
            if os.path.isdir(full):
                site.folder_page(rel)
            elif rel.lower().endswith(IMAGE_EXT):
                os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
                shutil.copyfile(full, os.path.join(out, rel))
            else:
                site.plain_page(rel)
    img = os.path.join(repo.root, "docs/img")
    if os.path.isdir(img):
        os.makedirs(os.path.join(out, "docs/img"), exist_ok=True)
        for f in sorted(os.listdir(img)):
            if f.lower().endswith(IMAGE_EXT):
                shutil.copyfile(os.path.join(img, f), os.path.join(out, "docs/img", f))
    site.missing_page()
    site.search.write(out)
    n = sum(len(fs) for _, _, fs in os.walk(out))
    print(f"docs: {len(done)} pages, {len(repo.sources)} source files side by side, {n} files in {out}/")


def sync(repo):
    changed = 0
    for rel, text in fill_all(repo, repo.md_pages()).items():
        if text != repo.read(rel):
            with open(os.path.join(repo.root, rel), "w", encoding="utf-8") as f:
                f.write(text)
            print(f"docs-sync: {rel}: code blocks refreshed from the source")
            changed += 1
    if not changed:
        print("docs-sync: every code block already matches its region")


def check_md(repo):
    bad = []
    for rel in repo.md_pages():
        text = repo.read(rel)
        for line in regions.unmarked_code_blocks(text):
            bad.append(f"docs: {rel}:{line}: C code pasted by hand: put <!-- code: FILE#REGION --> "
                       f"before it and a /* region: REGION */ in FILE")
        try:
            filled, used = regions.fill_markdown(repo.root, rel, text)
        except regions.RegionError as e:
            bad.append(str(e))
            continue
        if filled != text:
            old, new = text.split("\n"), filled.split("\n")
            k = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
            bad.append(f"docs: {rel}:{k + 1}: a code block differs from its region in the source: "
                       f"make docs-sync")
    for msg in bad:
        print(msg, file=sys.stderr)
    if bad:
        sys.exit(1)


NEEDS = {  # Debian package: how to tell it is installed
    "pandoc": lambda: shutil.which("pandoc"),
    "python3-pygments": lambda: lex is not None,
    "chromium": lambda: shutil.which("chromium"),
    "fonts-wqy-microhei": lambda: os.path.exists("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
}


def need(pkgs):
    """Until scripts/deps.sh has a docs group: name what is missing and how to install it."""
    missing = [p for p in pkgs if not NEEDS[p]()]
    if missing:
        die(f"docs: missing: {' '.join(missing)}\n"
            f"docs: install them: sudo apt-get install -y --no-install-recommends {' '.join(missing)}")


def main():
    root = os.environ.get("WORKBOOK_ROOT", os.getcwd())
    repo = Repo(root)
    cmd = sys.argv[1] if len(sys.argv) > 1 else "build"
    if lex is None and cmd != "need":
        need(["python3-pygments"])
    if cmd == "build":
        build(repo, sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "build/site"))
    elif cmd == "sync":
        sync(repo)
    elif cmd == "check-md":
        check_md(repo)
    elif cmd == "need":
        need(sys.argv[2:])
    else:
        die(f"usage: {sys.argv[0]} build [OUT] | sync | check-md")


if __name__ == "__main__":
    main()

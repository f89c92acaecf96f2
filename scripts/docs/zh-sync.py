#!/usr/bin/python3
"""zh-sync.py — keep the Chinese edition (docs/zh/) in step with the English pages.

The English pages are the source. For every English page P (README.md, docs/NN-*.md,
docs/errata.md, docs/answers.md, docs/teaching.md, and any other docs/*.md that has a
translation) docs/zh/P must:

  * have the same headings: the same number of sections, at the same levels, in the same order;
  * carry, in each section, the same fenced code blocks (byte-identical, in order), the same
    HTML comment markers (<!-- transcript: … -->, <!-- code: file#region -->, <!-- diff: … -->),
    every inline `code` span of the English prose (commands, names, outputs; names of .md pages
    excepted, since the translation names the translated page), and the same images (compared by the file they point at, so img/x.svg in English and
    ../img/x.svg in docs/zh/ are the same image);
  * record, right under each heading, which English text it translates:
        <!-- en: 1a2b3c4d5e6f -->
    the first 12 hex digits of the sha256 of that English section's normalised text (its heading
    and body, whitespace runs collapsed to one space). When the English section changes, its hash
    changes and the stamp no longer matches: the section is *stale*;
  * have relative links that resolve from docs/zh/ (files exist; #anchors name a heading or an
    <a id="…"> of the page).

Usage:
  scripts/docs/zh-sync.py                       check everything; exit 1 with one line per problem
  scripts/docs/zh-sync.py --status              list every stale or missing section and page; exit 0
  scripts/docs/zh-sync.py --update-hashes PAGE [--section TITLE]
                                           stamp PAGE's sections (or the one whose English heading
                                           is TITLE) with the current English hashes; do it after
                                           translating them. PAGE is a name like 03-timers.md or
                                           README.md. Refuses when the headings do not match yet.
  scripts/docs/zh-sync.py --diff PAGE           for each stale section of PAGE, the English text as it was
                                           when translated (found in git history by its stamp) diffed
                                           against the English text now; a section new in English is
                                           shown whole
  --root DIR                               the repository (default: this script's parent folder)

Pages not translated yet may be listed, one name a line, in docs/zh/pending.txt: a missing page
listed there is reported as a note instead of failing.
"""

import argparse
import difflib
import hashlib
import os
import re
import subprocess
import sys
import unicodedata

ZH_DIR = "docs/zh"
PENDING = "docs/zh/pending.txt"
# zh-only pages: no English counterpart
ZH_ONLY = {"glossary.md", "README-translators.md"}

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
STAMP = re.compile(r"^<!-- en: ([0-9a-f]{12}) -->$")
COMMENT = re.compile(r"^[ \t]*<!--.*-->[ \t]*$")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_IMG = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)[\"']", re.I)
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")
INLINE_SPAN = re.compile(r"(`+)(.+?)\1")


class Section:
    def __init__(self, level, title, lines):
        self.level = level  # 0 for the text before the first heading
        self.title = title
        self.lines = lines  # the heading line (if any) and every line up to the next heading
        self.fences = []  # the text of each fenced block, fences included
        self.markers = []  # HTML comment lines, stamps excluded
        self.images = []  # image targets as written
        self.links = []  # link targets as written
        self.stamp = None
        self.prose = []  # the lines outside code blocks

    def code_spans(self):
        """Inline code of the prose (a span may run over a line break); page names excepted,
        since a translation names the translated page."""
        text = " ".join(l for l in self.prose if not STAMP.match(l))
        spans = {" ".join(m.group(2).split()) for m in INLINE_SPAN.finditer(text)}
        return {x for x in spans if not x.endswith(".md")}

    def label(self):
        return '"%s"' % self.title if self.level else "(before the first heading)"


def parse(text):
    """Split a Markdown page into sections; collect each section's fixed parts."""
    sections = [Section(0, "", [])]
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            indent, fence, info = m.groups()
            block = [line]
            j = i + 1
            while j < len(lines):
                block.append(lines[j])
                close = FENCE.match(lines[j])
                if close and close.group(2)[0] == fence[0] and len(close.group(2)) >= len(fence) \
                        and not close.group(3).strip():
                    break
                j += 1
            sec = sections[-1]
            sec.lines.extend(block)
            sec.fences.append("\n".join(block))
            i = j + 1
            continue
        h = HEADING.match(line)
        if h:
            sections.append(Section(len(h.group(1)), h.group(2).strip(), [line]))
            i += 1
            continue
        sec = sections[-1]
        sec.lines.append(line)
        sec.prose.append(line.strip())
        s = STAMP.match(line.strip())
        if s:
            if sec.stamp is None:
                sec.stamp = s.group(1)
        elif COMMENT.match(line):
            sec.markers.append(line.strip())
        scan = INLINE_CODE.sub("", line)
        sec.images.extend(IMAGE.findall(scan))
        sec.images.extend(HTML_IMG.findall(scan))
        sec.links.extend(LINK.findall(scan))
        i += 1
    if not any(l.strip() for l in sections[0].lines):
        sections.pop(0)
    return sections


def section_hash(sec):
    body = [l for l in sec.lines if not STAMP.match(l.strip())]
    norm = " ".join(" ".join(body).split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]


# besides the chapter pages (docs/NN-*.md), the pages a student or instructor reads
REQUIRED_PAGES = ("errata.md", "answers.md", "teaching.md")
HTML_ANCHOR = re.compile(r'<a (?:id|name)="([^"]+)"')


def github_slug(title):
    """The anchor GitHub (and most renderers) give a heading."""
    t = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), title)
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", t).lower()
    out = []
    for ch in t:
        cat = unicodedata.category(ch)
        if ch in "-_" or cat[0] in "LN" or cat == "Mn":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


class Checker:
    def __init__(self, root):
        self.root = root
        self.problems = []  # (page, message)
        self.notes = []
        self.cache = {}

    def read(self, rel):
        path = os.path.join(self.root, rel)
        if rel not in self.cache:
            with open(path, encoding="utf-8") as f:
                self.cache[rel] = f.read()
        return self.cache[rel]

    def pages(self):
        """(English file, zh file, name) for every page that must or does have a translation."""
        out = []
        if os.path.exists(os.path.join(self.root, "README.md")):
            out.append(("README.md", ZH_DIR + "/README.md", "README.md"))
        docs = os.path.join(self.root, "docs")
        for name in sorted(os.listdir(docs)):
            if not name.endswith(".md") or not os.path.isfile(os.path.join(docs, name)):
                continue
            required = re.match(r"^\d\d-.*\.md$", name) or name in REQUIRED_PAGES
            zh = ZH_DIR + "/" + name
            if required or os.path.exists(os.path.join(self.root, zh)):
                out.append(("docs/" + name, zh, name))
        return out

    def pending(self):
        path = os.path.join(self.root, PENDING)
        if not os.path.exists(path):
            return set()
        with open(path, encoding="utf-8") as f:
            return {l.strip() for l in f if l.strip() and not l.startswith("#")}

    def is_pending(self, full):
        """A link to a zh page that is listed as not translated yet: it will exist."""
        zh = os.path.normpath(os.path.join(self.root, ZH_DIR))
        return os.path.dirname(full) == zh and os.path.basename(full) in self.pending()

    def problem(self, page, msg):
        self.problems.append((page, msg))

    def compare(self, en_rel, zh_rel, name):
        """Every difference between the page and its translation, as problems."""
        if not os.path.exists(os.path.join(self.root, zh_rel)):
            if name in self.pending():
                self.notes.append("%s: not translated yet (listed in %s)" % (name, PENDING))
            else:
                self.problem(name, "no translation: create %s (translate %s)" % (zh_rel, en_rel))
            return
        en = parse(self.read(en_rel))
        zh = parse(self.read(zh_rel))
        self.check_links(zh_rel, zh)
        en_dir = os.path.dirname(en_rel)
        zh_dir = os.path.dirname(zh_rel)
        if [s.level for s in en] != [s.level for s in zh]:
            self.report_structure(name, zh_rel, en, zh)
            return
        for e, z in zip(en, zh):
            where = "section %s" % e.label()
            if e.fences != z.fences:
                self.problem(name, "%s: its code blocks differ from English (they must be "
                             "byte-identical, in order): %s" % (where, first_diff(e.fences, z.fences)))
            if e.markers != z.markers:
                self.problem(name, "%s: its <!-- … --> markers differ from English: %s"
                             % (where, first_diff(e.markers, z.markers)))
            lost = sorted(e.code_spans() - z.code_spans())
            if lost:
                self.problem(name, "%s: inline code of the English is missing from the translation "
                             "(it must appear unchanged): %s" % (where, ", ".join("`%s`" % x for x in lost[:5])))
            ei = [resolve(en_dir, p) for p in e.images]
            zi = [resolve(zh_dir, p) for p in z.images]
            if ei != zi:
                self.problem(name, "%s: its images differ from English: %s" % (where, first_diff(ei, zi)))
            h = section_hash(e)
            if z.stamp is None:
                self.problem(name, "%s has no <!-- en: … --> stamp under its heading in %s; after "
                             "translating it run: scripts/docs/zh-sync.py --update-hashes %s --section '%s'"
                             % (where, zh_rel, name, e.title))
            elif z.stamp != h:
                self.problem(name, "section %s changed in English (stamp %s, now %s), update %s"
                             % (e.label(), z.stamp, h, zh_rel))

    def report_structure(self, name, zh_rel, en, zh):
        """Say which headings are in one edition only, matched by their stamps."""
        ek = ["%d:%s" % (s.level, section_hash(s)) for s in en]
        zk = ["%d:%s" % (s.level, s.stamp) for s in zh]
        sm = difflib.SequenceMatcher(a=ek, b=zk, autojunk=False)
        said = False
        for op, a0, a1, b0, b1 in sm.get_opcodes():
            if op == "equal":
                continue
            if op == "replace" and a1 - a0 == b1 - b0 and \
                    all(en[a0 + k].level == zh[b0 + k].level for k in range(a1 - a0)):
                for k in range(a1 - a0):
                    self.problem(name, "section %s changed in English (stamp %s, now %s), update %s"
                                 % (en[a0 + k].label(), zh[b0 + k].stamp,
                                    section_hash(en[a0 + k]), zh_rel))
                continue
            for s in en[a0:a1]:
                self.problem(name, "section %s (%s) is in English only: translate it into %s at "
                             "the same place" % (s.label(), "#" * s.level, zh_rel))
                said = True
            for s in zh[b0:b1]:
                self.problem(name, "section %s (%s) in %s has no English counterpart (English "
                             "headings: %s)" % (s.label(), "#" * s.level, zh_rel,
                                                 ", ".join("#" * e.level for e in en)))
                said = True
        if not said:
            self.problem(name, "headings differ: English has levels %s, %s has %s"
                         % ([s.level for s in en], zh_rel, [s.level for s in zh]))

    def anchors(self, rel, sections=None):
        """Every anchor of a page: its headings' slugs, and the ids of <a id="…"> tags
        (answers.md gives each answer one that does not depend on the language)."""
        if sections is None:
            sections = parse(self.read(rel))
        return ({s.title and github_slug(s.title) for s in sections}
                | set(HTML_ANCHOR.findall(self.read(rel))))

    def check_links(self, zh_rel, sections):
        zh_dir = os.path.dirname(zh_rel)
        slugs = self.anchors(zh_rel, sections)
        for s in sections:
            for target in s.links + s.images:
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
                    continue
                path, _, anchor = target.partition("#")
                if path:
                    full = os.path.normpath(os.path.join(self.root, zh_dir, path))
                    if not os.path.exists(full) and not self.is_pending(full):
                        self.problem(os.path.basename(zh_rel), "section %s: link %s points at "
                                     "nothing from %s/" % (s.label(), target, zh_dir))
                        continue
                    if anchor and full.endswith(".md") and os.path.exists(full):
                        rel = os.path.relpath(full, self.root)
                        if anchor not in self.anchors(rel):
                            self.problem(os.path.basename(zh_rel), "section %s: link %s: no "
                                         "heading or <a id> with that anchor" % (s.label(), target))
                elif anchor and anchor not in slugs:
                    self.problem(os.path.basename(zh_rel), "section %s: link %s: no heading or "
                                 "<a id> with that anchor on the page" % (s.label(), target))

    def check_all(self):
        for en_rel, zh_rel, name in self.pages():
            self.compare(en_rel, zh_rel, name)
        for name in ZH_ONLY:
            rel = ZH_DIR + "/" + name
            if os.path.exists(os.path.join(self.root, rel)):
                self.check_links(rel, parse(self.read(rel)))


def resolve(base, target):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
        return target
    return os.path.normpath(os.path.join(base, target))


def first_diff(a, b):
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "#%d: English %r, zh %r" % (k + 1, short(x), short(y))
    if len(a) > len(b):
        return "English has %d, zh %d; first missing: %r" % (len(a), len(b), short(a[len(b)]))
    return "English has %d, zh %d; first extra: %r" % (len(a), len(b), short(b[len(a)]))


def short(s):
    s = s.replace("\n", "⏎")
    return s if len(s) <= 70 else s[:67] + "…"


def update_hashes(root, page, only):
    chk = Checker(root)
    match = [p for p in chk.pages() if p[2] == page or p[0] == page or p[1] == page]
    if not match:
        sys.exit("zh-sync: no English page named %s" % page)
    en_rel, zh_rel, name = match[0]
    if not os.path.exists(os.path.join(root, zh_rel)):
        sys.exit("zh-sync: %s does not exist yet: translate %s first" % (zh_rel, en_rel))
    en = parse(chk.read(en_rel))
    zh_text = chk.read(zh_rel)
    zh = parse(zh_text)
    if [s.level for s in en] != [s.level for s in zh]:
        chk.report_structure(name, zh_rel, en, zh)
        for _, msg in chk.problems:
            print("zh-sync: %s: %s" % (name, msg), file=sys.stderr)
        sys.exit("zh-sync: %s: headings differ, nothing stamped" % name)
    if only is not None and only not in [s.title for s in en]:
        sys.exit("zh-sync: %s has no section titled %r; its sections: %s"
                 % (en_rel, only, ", ".join(repr(s.title) for s in en if s.level)))
    out = []
    stamped = []
    for e, z in zip(en, zh):
        lines = list(z.lines)
        if only is None or e.title == only:
            h = section_hash(e)
            stamp = "<!-- en: %s -->" % h
            idx = [k for k, l in enumerate(lines) if STAMP.match(l.strip())]
            if idx:
                if lines[idx[0]] != stamp:
                    stamped.append(e.label())
                lines[idx[0]] = stamp
            else:
                lines.insert(1 if e.level else 0, stamp)
                stamped.append(e.label())
        out.extend(lines)
    new = "\n".join(out)
    if new != zh_text:
        with open(os.path.join(root, zh_rel), "w", encoding="utf-8") as f:
            f.write(new)
    print("zh-sync: %s: stamped %d section(s)%s" % (zh_rel, len(stamped),
                                                    ": " + ", ".join(stamped) if stamped else ""))


def old_sections(root, en_rel, limit=300):
    """stamp -> section lines, for every version of the English page in git history."""
    found = {}
    try:
        revs = subprocess.run(["git", "-C", root, "log", "--format=%H", "-n", str(limit), "--", en_rel],
                              capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return found
    for rev in revs:
        show = subprocess.run(["git", "-C", root, "show", "%s:%s" % (rev, en_rel)],
                              capture_output=True, text=True)
        if show.returncode != 0:
            continue
        for sec in parse(show.stdout):
            found.setdefault(section_hash(sec), (rev[:12], sec.lines))
    return found


def show_diff(root, page):
    chk = Checker(root)
    match = [p for p in chk.pages() if page in p]
    if not match:
        sys.exit("zh-sync: no English page named %s" % page)
    en_rel, zh_rel, name = match[0]
    if not os.path.exists(os.path.join(root, zh_rel)):
        sys.exit("zh-sync: %s does not exist yet: translate all of %s" % (zh_rel, en_rel))
    en = parse(chk.read(en_rel))
    zh = parse(chk.read(zh_rel))
    stamps = {z.stamp for z in zh}
    # which zh section stood where each English section stands (same alignment as the check)
    ek = ["%d:%s" % (e.level, section_hash(e)) for e in en]
    zk = ["%d:%s" % (z.level, z.stamp) for z in zh]
    partner = {}
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=ek, b=zk, autojunk=False).get_opcodes():
        if op == "replace":
            for k in range(min(a1 - a0, b1 - b0)):
                if en[a0 + k].level == zh[b0 + k].level:
                    partner[a0 + k] = zh[b0 + k]
    history = None
    shown = 0
    for i, e in enumerate(en):
        h = section_hash(e)
        if h in stamps:
            continue
        shown += 1
        z = partner.get(i)
        if history is None:
            history = old_sections(root, en_rel)
        old = history.get(z.stamp) if z is not None and z.stamp else None
        if old is None:
            print("=== %s: section %s is new in English (or its old text is not in git history):"
                  % (name, e.label()))
            print("\n".join(e.lines).rstrip("\n") + "\n")
            continue
        print("=== %s: section %s changed in English since it was translated (stamp %s):"
              % (name, e.label(), z.stamp))
        sys.stdout.writelines(difflib.unified_diff(
            [l + "\n" for l in old[1]], [l + "\n" for l in e.lines],
            "%s (at %s, as translated)" % (en_rel, old[0]), "%s (now)" % en_rel))
        print()
    if not shown:
        print("zh-sync: %s: every section is in step" % name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("--status", action="store_true", help="list stale sections, exit 0")
    ap.add_argument("--update-hashes", metavar="PAGE", help="stamp PAGE's sections")
    ap.add_argument("--section", metavar="TITLE", help="with --update-hashes: only this section")
    ap.add_argument("--diff", metavar="PAGE", help="show what changed in English in PAGE's stale sections")
    args = ap.parse_args()
    if args.diff:
        show_diff(args.root, args.diff)
        return 0
    if args.update_hashes:
        update_hashes(args.root, args.update_hashes, args.section)
        return 0
    chk = Checker(args.root)
    chk.check_all()
    for page, msg in chk.problems:
        print("zh-sync: %s: %s" % (page, msg), file=sys.stdout if args.status else sys.stderr)
    for note in chk.notes:
        print("zh-sync: note: %s" % note, file=sys.stdout if args.status else sys.stderr)
    pages = sorted({page for page, _ in chk.problems})
    if args.status:
        n = len(chk.problems)
        for page in pages:
            print("zh-sync: to see what changed in English: scripts/docs/zh-sync.py --diff %s" % page)
        print("zh-sync: %d problem(s)%s" % (n, "" if n else ": the Chinese edition is in step"))
        return 0
    if chk.problems:
        print("zh-sync: %d problem(s) in %d page(s): %s; how to refresh a translation: "
              "docs/zh/README-translators.md (scripts/docs/zh-sync.py --status, --diff PAGE, "
              "--update-hashes PAGE)" % (len(chk.problems), len(pages), ", ".join(pages)), file=sys.stderr)
    return 1 if chk.problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""prose.py — a C comment's text as HTML, for the prose column of the side-by-side source pages.

Comments are wrapped by hand at about 80 columns, often as small tables ("register  what it
does", "Run it:  make chapter1") with the text continued under itself on the next lines. In a
column a third of the page wide, kept as preformatted text those wrap again, raggedly; so each
paragraph is read as entries — plain lines, aligned rows, list items, drawings — and a line
indented under an entry's text continues it. Rows become a grid whose text wraps under itself.
"""
import html
import re

ROW = re.compile(r"^(\S(?:[^ ]| (?! ))*?)( {2,})(\S.*)$")  # "term  text": two or more spaces
LABEL = re.compile(r"^([A-Z][A-Za-z ]{0,14}:)( +)(\S.*)$")   # "Poke it: text"
ITEM = re.compile(r"^((?:[-*]|\d+[.)]) +)(\S.*)$")
DRAWING = re.compile(r"[\u2500-\u259f\u25a0-\u25ff]")  # box drawing, ▶ ◀: a picture in text
STACK_AT = 22  # a term wider than this (characters) goes above its text, not beside it


def prose_entries(lines):
    """A comment paragraph's lines as entries (dicts): "p" a plain line, "row" an aligned
    "term  text" line, "item" a list item, "pre" a drawing or another indented line. A line
    indented under an entry's text (the comment's own hanging indent) continues that entry, so a
    wrapped definition is one entry however it was wrapped."""
    labels = any((m := LABEL.match(l)) and len(m.group(2)) >= 2 for l in lines)
    out = []
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        indent = indent if indent > 1 else 0  # "/* Text" leaves one space: not an indent
        text = line.strip()
        last = out[-1] if out else None
        if last and last["kind"] in ("row", "item") and indent >= last["col"] - 1 and \
                not DRAWING.search(text):
            last["parts"].append((indent - last["col"], text))
            continue
        m = (LABEL.match(text) if labels else None) or ROW.match(text)
        if DRAWING.search(text):
            out.append({"kind": "pre", "text": line})
        elif m and len(m.group(1)) <= 40:
            out.append({"kind": "row", "term": m.group(1), "parts": [(0, m.group(3))], "at": indent,
                        "col": indent + len(m.group(1)) + len(m.group(2))})
        elif last and last["kind"] == "row" and indent == last["at"] and indent:
            out.append({"kind": "row", "term": text, "parts": [], "at": indent, "col": 999})
        elif ITEM.match(text):
            m = ITEM.match(text)
            out.append({"kind": "item", "parts": [(0, m.group(2))], "col": indent + len(m.group(1))})
        elif indent and not (last and last["kind"] == "p"):
            out.append({"kind": "pre", "text": line})
        else:
            out.append({"kind": "p", "text": text})
    return out


def joined(parts):
    """An entry's lines as HTML: a wrapped sentence joins with a space; a line that ends a
    sentence or a command (".", ";", ":", ")", a number) keeps its line break, and so does the
    next command under "Run it:"."""
    html_ = inline(parts[0][1])
    for (_, prev), (deeper, text) in zip(parts, parts[1:]):
        wrap = deeper > 0 or re.search(r"[a-z,]$", prev) is not None
        html_ += (" " if wrap else "<br>") + inline(text)
    return html_


def prose_html(text):
    """A comment's text as HTML: paragraphs of prose; aligned "term  text" lines as rows whose
    text wraps under itself (not under the term); lists; drawings kept as they are."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.split("\n")
        sep = re.match(r"^-{2,}\s*(.*?)\s*-{2,}$", para.strip())
        if sep and len(lines) == 1:
            out.append(f'<h3 class="sep">{inline(sep.group(1))}</h3>')
            continue
        entries = prose_entries(lines)
        k = 0
        while k < len(entries):
            kind = entries[k]["kind"]
            j = k
            while j < len(entries) and entries[j]["kind"] == kind:
                j += 1
            group = entries[k:j]
            if kind == "p":
                out.append(f"<p>{inline(' '.join(e['text'] for e in group))}</p>")
            elif kind == "pre":
                out.append('<div class="pre">' + "\n".join(inline(e["text"]) for e in group) + "</div>")
            elif kind == "item":
                out.append('<ul class="lines">' + "".join(f"<li>{joined(e['parts'])}</li>" for e in group)
                           + "</ul>")
            else:
                width = max(len(e["term"]) for e in group if e["parts"]) if any(e["parts"] for e in group) \
                    else STACK_AT + 1
                stacked = " stacked" if width > STACK_AT else ""
                rows = [f'<div class="row{stacked}"><span class="term">{inline(e["term"])}</span>'
                        f'<span class="def">{joined(e["parts"]) if e["parts"] else ""}</span></div>'
                        for e in group]
                out.append(f'<div class="rows" style="--term: {min(width, STACK_AT) + 1}ch">'
                           + "".join(rows) + "</div>")
            k = j
    return "".join(out)


def inline(s):
    s = html.escape(s, quote=False)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", s)

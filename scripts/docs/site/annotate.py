"""annotate.py — split a C file into sections of prose (its comments) and code, for the side-by-side
source pages.

How comments pair with code:
  - a comment that stands alone on its line(s) — a /* ... */ block, or a run of // lines, with
    nothing but blanks around it — starts a section; its text (markers, the leading " * " and the
    common indentation stripped) is the section's prose;
  - the code lines after it, up to the next such comment, are the section's code;
  - a comment that shares its line with code (a trailing "/* why */") stays in the code column;
  - region markers (/* region: NAME */, /* endregion */) stay in the code column, dimmed, and give
    the page an anchor #region-NAME;
  - a function definition (name at the start of a line, its "{" alone on a later line: the
    workbook's Linux brace style) gives its section the anchor #NAME.
Every line of the file is in exactly one section, in order: the prose column shows the line
numbers its comment came from, the code column numbers each line (anchor #L<n>).
"""
import re

from regions import REGION_END, REGION_START


def comment_spans(text):
    """[(start_offset, end_offset, kind)] of every comment, skipping strings and char literals."""
    spans, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            spans.append((i, end, "block"))
            i = end
        elif c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            spans.append((i, end, "line"))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return spans


def _line_starts(text):
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _line_of(starts, offset):
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo  # 0-based


def comment_text(raw, kind):
    """The prose of one comment: markers, leading ' * ' and common indentation removed."""
    if kind == "line":
        lines = [re.sub(r"^\s*//+ ?", "", l) for l in raw.split("\n")]
    else:
        body = raw[2:-2] if raw.endswith("*/") else raw[2:]
        lines = body.split("\n")
        out = []
        for k, l in enumerate(lines):
            if k > 0:
                m = re.match(r"^\s*\*(?!/) ?", l)
                l = l[m.end():] if m else l
            out.append(l.rstrip())
        lines = out
        if lines and lines[0].strip() == "":
            lines = lines[1:]
        if lines and lines[-1].strip() == "":
            lines = lines[:-1]
        if lines and not lines[0].startswith(" "):
            lines[0] = lines[0].lstrip()
    indents = [len(l) - len(l.lstrip()) for l in lines[1:] if l.strip()]
    cut = min(indents) if indents else 0
    if cut and all(len(l) - len(l.lstrip()) >= cut for l in lines[1:] if l.strip()):
        lines = lines[:1] + [l[cut:] for l in lines[1:]]
    return "\n".join(l.rstrip() for l in lines).strip("\n")


C_KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof"}
FUNC_NAME = re.compile(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(")


def function_starts(lines):
    """{0-based line index of a definition's first line: function name}."""
    found = {}
    for i, line in enumerate(lines):
        if line.rstrip() != "{":
            continue
        j = i - 1
        while j > 0 and lines[j][:1] in (" ", "\t"):
            j -= 1
        m = FUNC_NAME.match(lines[j])
        if m and not lines[j].startswith(("#", "typedef ")) and m.group(1) not in C_KEYWORDS:
            found[j] = m.group(1)
    return found


def sections(text):
    """[{'prose': str|None, 'prose_lines': (a, b)|None, 'code': [line indexes], 'ids': [...]}]"""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]  # the newline ending the last line is not a line of its own
    starts = _line_starts(text)
    # standalone comment groups: {first line index: (last line index, prose)}
    groups, prev_last = {}, None
    for s, e, kind in comment_spans(text):
        a, b = _line_of(starts, s), _line_of(starts, max(s, e - 1))
        before = text[starts[a]:s]
        after = text[e:starts[b + 1] - 1 if b + 1 < len(starts) else len(text)]
        if before.strip() or after.strip():
            continue  # shares a line with code: stays in the code column
        if REGION_START.match(lines[a]) or REGION_END.match(lines[a]):
            continue
        prose = comment_text(text[s:e], kind)
        if prev_last is not None and a == prev_last + 1:
            # adjacent to the previous standalone comment: one block of prose
            first = max(k for k in groups if k <= prev_last)
            last, old = groups[first]
            groups[first] = (b, old + ("\n" if kind == "line" else "\n\n") + prose)
        else:
            groups[a] = (b, prose)
        prev_last = b
    funcs = function_starts(lines)
    out, cur, i = [], None, 0
    while i < len(lines):
        if i in groups:
            last, prose = groups[i]
            cur = {"prose": prose, "prose_lines": (i + 1, last + 1), "code": [], "ids": []}
            out.append(cur)
            i = last + 1
            continue
        if cur is None:
            cur = {"prose": None, "prose_lines": None, "code": [], "ids": []}
            out.append(cur)
        if i in funcs and funcs[i] not in cur["ids"]:
            cur["ids"].append(funcs[i])
        cur["code"].append(i)
        i += 1
    return out, lines, funcs

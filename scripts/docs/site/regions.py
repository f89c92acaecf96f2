"""regions.py — named code regions in the C sources, and the Markdown blocks that show them.

In a .c/.h file a region is the lines between two marker comments, each alone on its line:

    /* region: on_accept */
    static void on_accept(...)
    ...
    /* endregion */

In a Markdown page, a marker comment names the region; the fenced block right after it shows it:

    <!-- code: 01_listener/listener.c#on_accept -->
    ```c
    ...the region's lines, common indentation removed...
    ```

GitHub hides the HTML comment, so the page reads normally there. `fill_markdown` puts the current
region into every marked block (the site always shows the code as it is now; `make docs-sync`
writes the result back so GitHub shows the same). Errors are raised as RegionError with a message
that names the page, the line and the region.
"""
import os
import re

REGION_START = re.compile(r"^\s*/\* region: ([A-Za-z0-9_.-]+) \*/\s*$")
REGION_END = re.compile(r"^\s*/\* endregion \*/\s*$")
MD_MARKER = re.compile(r"^<!-- code: ([^#\s]+)#([A-Za-z0-9_.-]+) -->\s*$")
FENCE = re.compile(r"^(```+|~~~+)\s*([A-Za-z0-9_+-]*)\s*$")


class RegionError(Exception):
    pass


def closing_fence(lines, i):
    """The index of the line closing the fenced block opened at lines[i] (len(lines) if none):
    the same character, at least as many, nothing else on the line (CommonMark's rule)."""
    fence = FENCE.match(lines[i]).group(1)
    for j in range(i + 1, len(lines)):
        s = lines[j].strip()
        if s.startswith(fence) and set(s) == {fence[0]}:
            return j
    return len(lines)


def parse_regions(path, text, strict=True):
    """{name: (first_line, last_line)} of the lines strictly between the markers (1-based),
    plus {marker line number: name or None} for every marker line. strict=False skips what is
    malformed (a page asking for region X then hears "X not found", the file's own page the rest)."""
    regions, markers, open_name, open_at = {}, {}, None, 0
    for n, line in enumerate(text.split("\n"), 1):
        m = REGION_START.match(line)
        if m:
            if open_name and strict:
                raise RegionError(f"docs: {path}:{n}: region {m.group(1)} starts inside region "
                                  f"{open_name} (line {open_at}); regions do not nest")
            if m.group(1) in regions and strict:
                raise RegionError(f"docs: {path}:{n}: region {m.group(1)} defined twice")
            open_name, open_at = m.group(1), n
            markers[n] = open_name
        elif REGION_END.match(line):
            if not open_name:
                if not strict:
                    continue
                raise RegionError(f"docs: {path}:{n}: /* endregion */ without a /* region: NAME */ before it")
            regions[open_name] = (open_at + 1, n - 1)
            markers[n] = None
            open_name = None
    if open_name and strict:
        raise RegionError(f"docs: {path}:{open_at}: region {open_name} is never closed (no /* endregion */)")
    return regions, markers


def region_text(root, ref, where):
    """The lines of region ref ('01_listener/listener.c#on_accept'), dedented, and its line range."""
    path, _, name = ref.partition("#")
    full = os.path.join(root, path)
    if not os.path.isfile(full):
        raise RegionError(f"docs: {where}: region {path}#{name} not found ({path} does not exist)")
    with open(full, encoding="utf-8") as f:
        text = f.read()
    regions, _ = parse_regions(path, text, strict=False)
    if name not in regions:
        opened = [n for n, l in enumerate(text.split("\n"), 1)
                  if (m := REGION_START.match(l)) and m.group(1) == name]
        if opened:
            raise RegionError(f"docs: {where}: region {path}#{name} not found: its /* region: {name} */ "
                              f"({path}:{opened[0]}) has no /* endregion */ after it")
        raise RegionError(f"docs: {where}: region {path}#{name} not found "
                          f"(no /* region: {name} */ in {path})")
    first, last = regions[name]
    lines = text.split("\n")[first - 1:last]
    indents = [len(l) - len(l.lstrip()) for l in lines if l.strip()]
    cut = min(indents) if indents else 0
    return [l[cut:] if l.strip() else "" for l in lines], first, last


def fill_markdown(root, page, text):
    """Return (new_text, [(ref, first, last, block_line)]) with every marked block refilled."""
    lines = text.split("\n")
    out, used, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = MD_MARKER.match(line)
        f = FENCE.match(line)
        if f:  # a block not under a marker: copied as it is (a marker inside it is an example)
            j = closing_fence(lines, i)
            out.extend(lines[i + 1:j + 1])
            i = j + 1
            continue
        if not m:
            i += 1
            continue
        ref = f"{m.group(1)}#{m.group(2)}"
        where = f"{page}:{i + 1}"
        f = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not f:
            raise RegionError(f"docs: {where}: <!-- code: {ref} --> must be followed by a ```c block")
        j = closing_fence(lines, i + 1)
        if j >= len(lines):
            raise RegionError(f"docs: {where}: the ```c block after <!-- code: {ref} --> is never closed")
        body, first, last = region_text(root, ref, where)
        out.append(lines[i + 1])
        out.extend(body)
        out.append(lines[j])
        used.append((ref, first, last, i + 2))
        i = j + 1
    return "\n".join(out), used


# A fenced block that is not marked but looks like C: two or more lines like these.
C_LIKE = re.compile(r"^\s*(#include\s*[<\"]|static\s|struct\s+\w+\s*[{*]|(if|while|for|switch)\s*\(.*\)\s*[{]?$"
                    r"|return\b.*;$|[A-Za-z_][\w>.-]*\s*=\s*.*;$|[A-Za-z_]\w*\(.*\);$|}\s*$)")


def unmarked_code_blocks(text):
    """Line numbers of fenced blocks that show C without a region marker: a ```c/```h block with
    no <!-- code: --> line right before it, or an unlabelled block of which 2+ lines look like C."""
    lines, found, i = text.split("\n"), [], 0
    while i < len(lines):
        f = FENCE.match(lines[i])
        if not f:
            i += 1
            continue
        info = f.group(2).lower()
        j = closing_fence(lines, i)
        marked = i > 0 and MD_MARKER.match(lines[i - 1])
        body = lines[i + 1:j]
        if not marked:
            if info in ("c", "h", "cpp", "c++"):
                found.append(i + 1)
            elif info == "" and sum(1 for l in body if C_LIKE.match(l)) >= 2:
                found.append(i + 1)
        i = j + 1
    return found

"""svgtext.py — the smallest text of an SVG picture, for the docs site (build.py sizes each picture
so that this text is at least 14 px on the page; check.py measures it as Chromium shows it).

    smallest_text(path) -> (font size, width), both in the drawing's own units (its viewBox), or
                           (None, None) when the file has no text or cannot be read.
Graphviz writes font-size="14.00" on each <text>; gnuplot on a <g> around them; a scale() in a
transform on the way down multiplies it. Standard library only.
"""
import re
import xml.etree.ElementTree as ET


def _size(el, inherited):
    m = re.search(r"font-size:\s*([0-9.]+)", el.get("style", ""))
    v = m.group(1) if m else el.get("font-size")
    try:
        return float(re.sub(r"(px|pt)$", "", v)) if v else inherited
    except ValueError:
        return inherited


def _scale(el):
    m = re.search(r"scale\(\s*([0-9.]+)", el.get("transform", ""))
    return float(m.group(1)) if m else 1.0


def smallest_text(path):
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return None, None
    vb = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        width = float(vb[2]) if len(vb) == 4 else float(re.sub(r"[a-z]+$", "", root.get("width", "0")) or 0)
    except ValueError:
        return None, None
    smallest = None

    def walk(el, size, scale):
        nonlocal smallest
        size, scale = _size(el, size), scale * _scale(el)
        if el.tag.rsplit("}", 1)[-1] == "text" and "".join(el.itertext()).strip():
            smallest = size * scale if smallest is None else min(smallest, size * scale)
        for c in el:
            walk(c, size, scale)
    walk(root, 16.0, 1.0)
    return (smallest, width) if smallest and width else (None, None)


def natural_width_px(path):
    """The width the browser gives the picture by itself (px; pt × 4/3), or None (no width)."""
    try:
        w = ET.parse(path).getroot().get("width", "")
    except (ET.ParseError, OSError):
        return None
    m = re.match(r"^([0-9.]+)(pt|px)?$", w)
    if not m:
        return None
    return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)

#!/usr/bin/python3
"""check.py — make docs-check: every page of the built site, rendered by headless Chromium.

    scripts/docs/site/check.py [SITE] [SHOTS] [PAGE...]   (build/site, build/site-shots, every page)

One Chromium (two: DOCS_CHECK_JOBS=2, the default, for 8 pages or more) runs for all pages; we
talk to it over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
separated by NUL bytes on fds 3 and 4), so there is no port, no websocket library and no browser
start per page. For each page at 1280x800 it saves a
screenshot (SHOTS/<page path with / as __>.png) and fails on:
  - a link to a page or file of the site that does not exist, or to an #anchor the page lacks;
  - an image that did not load; anything fetched from the network (the site is offline);
  - a source page without both columns (prose and code, side by side) or missing lines;
  - a page wider than the viewport (a horizontal scroll bar), or the stylesheet not applied;
  - a chapter page without previous/next links in the chapters' order (per language), a page
    without the search box, a picture whose smallest text is under 14 px as shown, a space
    between two Chinese characters in a Chinese page outside code;
  - a search typed into the box (SEARCHES) that does not find the page it should.
  - a chapter page whose recorded lesson does not play or whose timeline is missing (casts.py).
Prints one line per problem, "docs-check: PAGE: what", then a summary; exits 1 if any.
"""
import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgtext  # noqa: E402
import casts  # noqa: E402  (the chapter pages' players and timelines)

WIDTH, HEIGHT = 1280, 800
PAGE_TIMEOUT = 30
PAGES_PER_BROWSER = 4  # a second browser only for at least twice this many pages

PROBE = r"""
(() => {
  const r = {ids: [], links: [], images: [], remote: [], cols: null};
  for (const e of document.querySelectorAll('[id]')) r.ids.push(e.id);
  for (const a of document.querySelectorAll('a[href]')) r.links.push(a.href);
  for (const i of document.images)
    r.images.push({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0,
                   width: i.getBoundingClientRect().width});
  const pager = document.querySelector('main nav.pager:not(.top)');
  r.pager = pager && {prev: (pager.querySelector('a[rel=prev]') || {}).href || null,
                      next: (pager.querySelector('a[rel=next]') || {}).href || null};
  r.searchBox = !!document.querySelector('header #search-box');
  r.cjkSpaces = [];
  if (document.documentElement.lang.startsWith('zh')) {
    // text of each block, code replaced by \u0001: a space between two CJK characters there
    // came from the page's own text (a line break inside a paragraph, say), not from code.
    // The site's own bars (header, contents, previous/next) put spaces between their links.
    const BLOCKS = 'p, li, td, th, h1, h2, h3, h4, h5, h6, dt, dd, figcaption, caption, summary, ' +
                   'blockquote, div, main, body';
    const texts = new Map();
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement, block = el.closest(BLOCKS);
      if (el.closest('header.top, nav.toc, nav.pager')) continue;
      const inCode = el.closest('pre, code, kbd, samp, script, style, textarea');
      texts.set(block, (texts.get(block) || '') + (inCode ? '\u0001' : n.nodeValue));
    }
    const C = '[\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60]';
    // (the space in a chapter's name, "第 1 章 监听器", separates number and title: allowed)
    const re = new RegExp(C + '[ \\t\\n\\r\\u00a0]+' + C, 'g');
    for (const t of texts.values())
      for (const m of t.matchAll(re)) {
        if (/第\s*[0-9]+\s*章$/.test(t.slice(Math.max(0, m.index - 8), m.index + 1))) continue;
        const around = t.slice(Math.max(0, m.index - 8), m.index + m[0].length + 8);
        r.cjkSpaces.push(around.replace(/\s+/g, ' ').replace(/\u0001/g, '`…`'));
      }
  }
  for (const e of performance.getEntriesByType('resource'))
    if (!e.name.startsWith('file:')) r.remote.push(e.name);
  r.scrollWidth = document.documentElement.scrollWidth;
  r.clientWidth = document.documentElement.clientWidth;
  r.fontSize = getComputedStyle(document.documentElement).fontSize;
  if (document.body.classList.contains('source')) {
    const secs = [...document.querySelectorAll('.src > .sec')];
    let sideBySide = secs.length > 0, prose = 0, lines = new Set();
    for (const s of secs) {
      const p = s.querySelector(':scope > .prose'), c = s.querySelector(':scope > .code');
      if (!p || !c) { sideBySide = false; continue; }
      const pr = p.getBoundingClientRect(), cr = c.getBoundingClientRect();
      if (pr.width < 100 || cr.width < 300 || cr.left < pr.right - 1) sideBySide = false;
      if (p.textContent.trim()) prose++;
      const pl = p.querySelector('a.prose-lines');
      if (pl) { const [a, b] = pl.textContent.split('–').map(Number);
                for (let n = a; n <= (b || a); n++) lines.add(n); }
      for (const l of c.querySelectorAll('.line')) lines.add(Number(l.id.slice(1)));
    }
    const m = (document.querySelector('p.facts') || {textContent: ''}).textContent.match(/(\d+) lines/);
    r.cols = {sideBySide, sections: secs.length, prose, lines: lines.size,
              expected: m ? Number(m[1]) : -1, max: Math.max(0, ...lines)};
  }
  return r;
})()
"""


# null until search.js has answered: results, "nothing found", or why it could not search
SEARCH_RESULTS = r"""
(() => {
  const r = document.getElementById('search-results');
  if (!r || r.hidden || !r.textContent.trim()) return null;
  return {links: [...r.querySelectorAll('a')].map(a => a.href), text: r.textContent.trim()};
})()
"""

# The search box, tried as a reader would: on PAGE, type QUERY; PAGE2 must be among the results.
SEARCHES = [
    ("index.html", "self-pipe", "docs/04-signals.html"),
    ("docs/zh/index.html", "信号处理函数", "docs/zh/04-signals.html"),
    ("docs/zh/01-listener.html", "watermark", "docs/05-watermarks.html"),
]
FIGURE_MIN_PX = 14  # the smallest text of a figure, at 1280 px wide: readable on a projector
CHAPTER_HTML = re.compile(r"^docs/(zh/)?[0-9][0-9]-[^/]*\.html$")


class Browser:
    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            sys.exit("docs-check: chromium is missing: apt-get install chromium (scripts/deps.sh docs)")
        self.profile = tempfile.mkdtemp(prefix="docs-check-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium's ends, moved above 10 so that the dup2 to 3 and 4 cannot clobber them
        to_chrome_r, from_chrome_w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in
                                      (to_chrome_r, from_chrome_w))

        def fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync", "--mute-audio",
             "--allow-file-access-from-files", f"--user-data-dir={self.profile}",
             f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4, to_chrome_r, from_chrome_w), preexec_fn=fds, close_fds=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf, self.events, self.next_id, self.session = b"", [], 0, None

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe (did it crash?)")
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=PAGE_TIMEOUT):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, timeout=PAGE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for k, m in enumerate(self.events):
                if m.get("method") == name:
                    del self.events[: k + 1]
                    return m
            self.events.clear()
            self.events.append(self._read_message(deadline))

    def open(self):
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        tid = page["targetId"] if page else \
            self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": tid, "flatten": True},
                                 session=False)["sessionId"]
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def load(self, url):
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def visit(self, url):
        self.load(url)
        r = self.call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"probe failed: {r['exceptionDetails'].get('text')}")
        c = self.call("Runtime.evaluate", {"expression": casts.PROBE, "awaitPromise": True, "returnByValue": True})
        r["result"]["value"]["cast"] = c["result"].get("value") if "exceptionDetails" not in c else \
            {"error": c["exceptionDetails"].get("text")}
        shot = self.call("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
        return r["result"]["value"], base64.b64decode(shot["data"])

    def type_search(self, query, timeout=15):
        """Type query into the page's search box as a reader would; the result links (hrefs) and
        the box's text, once search.js has shown them (or None), and a screenshot of the page with
        the results open."""
        self.call("Runtime.evaluate", {"expression": "document.getElementById('search-box').focus()"})
        self.call("Input.insertText", {"text": query})
        deadline = time.monotonic() + timeout
        while True:
            r = self.call("Runtime.evaluate", {"expression": SEARCH_RESULTS, "returnByValue": True})
            shown = r.get("result", {}).get("value")
            if shown is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        shot = self.call("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True})
        return shown, base64.b64decode(shot["data"])

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    site = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/site")
    shots = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "build/site-shots")
    if not os.path.isfile(os.path.join(site, "index.html")):
        sys.exit(f"docs-check: no site in {site}: run make docs first")
    pages = sorted(os.path.relpath(os.path.join(d, f), site)
                   for d, _, fs in os.walk(site) for f in fs if f.endswith(".html"))
    if len(sys.argv) > 3:  # only these pages (the tests); anchors into others go unchecked
        pages = sys.argv[3:]
    shutil.rmtree(shots, ignore_errors=True)
    os.makedirs(shots)
    problems, probes, searches = [], {}, []
    start = time.monotonic()
    # no more browsers than a few pages each: a browser takes about a second to start
    jobs = max(1, min(int(os.environ.get("DOCS_CHECK_JOBS", "2")), len(pages) // PAGES_PER_BROWSER))

    def worker(share):
        browser = Browser()
        try:
            browser.open()
            for rel in share:
                try:
                    probe, png = browser.visit("file://" + os.path.join(site, rel))
                except (TimeoutError, RuntimeError) as e:
                    problems.append(f"docs-check: {rel}: did not render: {e}")
                    continue
                probes[rel] = probe
                with open(os.path.join(shots, rel.replace("/", "__")[:-5] + ".png"), "wb") as f:
                    f.write(png)
                for k, (page, query, want) in enumerate(SEARCHES):
                    if page != rel:
                        continue
                    try:
                        shown, png = browser.type_search(query)
                    except (TimeoutError, RuntimeError) as e:
                        shown, png = None, None
                        problems.append(f"docs-check: {rel}: search for {query!r} failed: {e}")
                    searches.append((page, query, want, shown))
                    if png:
                        with open(os.path.join(shots, f"search-{k + 1}.png"), "wb") as f:
                            f.write(png)
                    browser.load("file://" + os.path.join(site, rel))  # the box empty again
        except (TimeoutError, RuntimeError) as e:
            problems.append(f"docs-check: chromium: {e}")
        finally:
            browser.close()
    # one Chromium per job, each rendering its share of the pages (a thread each: they wait on pipes)
    threads = [threading.Thread(target=worker, args=(pages[k::jobs],)) for k in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = sorted(os.path.relpath(os.path.join(d, f), site)  # the chain: every chapter page
                        for d, _, fs in os.walk(site) for f in fs if f.endswith(".html"))
    chapters = {lang: [p for p in everything if CHAPTER_HTML.match(p) and p.startswith("docs/zh/") == (lang == "zh")]
                for lang in ("en", "zh")}
    for rel, p in sorted(probes.items()):
        problems += page_problems(site, rel, p, probes)
        problems += nav_problems(site, rel, p, chapters)
        problems += figure_problems(site, rel, p)
    problems += search_problems(site, searches, probes)
    for msg in problems:
        print(msg, file=sys.stderr)
    took = time.monotonic() - start
    print(f"docs-check: {len(probes)} of {len(pages)} pages rendered at {WIDTH}x{HEIGHT} in {took:.0f} s, "
          f"screenshots in {os.path.relpath(shots)}/; {len(problems)} problems")
    sys.exit(1 if problems else 0)


def page_problems(site, rel, p, probes):
    out = []
    say = lambda what: out.append(f"docs-check: {rel}: {what}")  # noqa: E731
    if p["fontSize"] != "20px":
        say(f"the stylesheet is not applied (root font size {p['fontSize']})")
    if p["scrollWidth"] > p["clientWidth"]:
        say(f"wider than the viewport: {p['scrollWidth']} px wide in a {p['clientWidth']} px window")
    for img in p["images"]:
        if not img["ok"]:
            say(f"image does not load: {shown(site, img['src'])}")
    for url in p["remote"]:
        say(f"fetches from the network: {url}")
    seen = set()
    for href in p["links"]:
        u = urlsplit(href)
        if u.scheme != "file" or href in seen:
            continue
        seen.add(href)
        path = unquote(u.path)
        if not path.startswith(site + "/") and path != site:
            say(f"link leaves the site: {href}")
            continue
        target = os.path.relpath(path, site)
        if not os.path.exists(path) or os.path.isdir(path):
            say(f"broken link: {shown(site, href)} (no {target} in the site)")
        elif u.fragment and target.endswith(".html") and target in probes and \
                unquote(u.fragment) not in probes[target]["ids"]:
            say(f"broken anchor: {shown(site, href)} (no id \"{unquote(u.fragment)}\" in {target})")
    out += casts.problems(rel, p.get("cast"))
    c = p["cols"]
    if c is not None:
        if not c["sideBySide"] or c["prose"] == 0:
            say(f"source page without both columns side by side ({c['sections']} sections, "
                f"{c['prose']} with prose)")
        if c["lines"] != c["expected"] or c["max"] != c["expected"]:
            say(f"source page shows {c['lines']} of the file's {c['expected']} lines")
    return out


def nav_problems(site, rel, p, chapters):
    """Every page has the search box; every chapter page its previous and next links, in the
    chapters' order, within its language (the ends lead to the contents page)."""
    out = []
    if not p.get("searchBox"):
        out.append(f"docs-check: {rel}: no search box in the header")
    for text in p.get("cjkSpaces", [])[:5]:
        out.append(f"docs-check: {rel}: a space between two Chinese characters: “{text}” "
                   f"(the build joins those it can see: is it in generated text or raw HTML?)")
    if not CHAPTER_HTML.match(rel):
        return out
    seq = chapters["zh" if rel.startswith("docs/zh/") else "en"]
    k = seq.index(rel)
    pager = p.get("pager") or {}
    for side, want in (("prev", seq[k - 1] if k > 0 else None), ("next", seq[k + 1] if k + 1 < len(seq) else None)):
        href = pager.get(side)
        if not href:
            out.append(f"docs-check: {rel}: no {'previous' if side == 'prev' else 'next'} chapter link")
            continue
        got = os.path.relpath(unquote(urlsplit(href).path), site)
        if want and got != want:
            out.append(f"docs-check: {rel}: its {side} link leads to {got}, not {want}")
        if not want and os.path.basename(got) != "index.html":
            out.append(f"docs-check: {rel}: its {side} link leads to {got}, not the contents page")
    return out


def figure_problems(site, rel, p):
    """A picture's smallest text, as shown at 1280 px wide: at least FIGURE_MIN_PX."""
    out = []
    for img in p["images"]:
        u = urlsplit(img["src"])
        path = unquote(u.path)
        if u.scheme != "file" or not path.endswith(".svg") or not img["ok"]:
            continue
        font, width = svgtext.smallest_text(path)
        if not font or not width:
            continue
        px = font * img["width"] / width
        if px < FIGURE_MIN_PX - 0.05:
            out.append(f"docs-check: {rel}: figure text too small: {px:.1f} px in {shown(site, img['src'])} "
                       f"(font {font:g} in a drawing {width:g} wide, shown {img['width']:.0f} px wide; "
                       f"at least {FIGURE_MIN_PX} px: in its .dot, fontsize=14 for graph, node and edge, and a "
                       f"layout narrow enough not to be shrunk, e.g. rankdir=TB)")
    return out


def search_problems(site, searches, probes):
    out = []
    for page, query, want, shown in searches:
        found = shown and shown["links"]
        if not found:
            said = f" (it says: {shown['text']})" if shown else ""
            out.append(f"docs-check: {page}: search for {query!r} showed no results{said}")
            continue
        got = [os.path.relpath(unquote(urlsplit(h).path), site) for h in found]
        if want not in got:
            out.append(f"docs-check: {page}: search for {query!r} did not find {want} (found: {', '.join(got[:5])})")
        for h, g in zip(found, got):
            frag = unquote(urlsplit(h).fragment)
            if not os.path.isfile(os.path.join(site, g)):
                out.append(f"docs-check: {page}: search result {g} does not exist")
            elif frag and g in probes and frag not in probes[g]["ids"]:
                out.append(f"docs-check: {page}: search result {g}#{frag}: no such anchor")
    return out


def shown(site, url):
    u = urlsplit(url)
    if u.scheme == "file" and unquote(u.path).startswith(site + "/"):
        return os.path.relpath(unquote(u.path), site) + (f"#{u.fragment}" if u.fragment else "")
    return url


if __name__ == "__main__":
    main()

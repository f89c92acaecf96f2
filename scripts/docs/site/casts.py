"""casts.py (site) — each chapter page's recorded lesson and trace timeline, for build.py and check.py.

    embed(root, rel, rel_out, body)  the chapter page's HTML with a "watch it run" block at the top
                                     of its "What you should see" section: the lesson's cast in
                                     asciinema-player, then the loop's timeline (docs/img/NN-timeline.svg)
    copy_assets(root, out)           the vendored player, the casts and the timelines' traces
    PROBE, problems(rel, found)      make docs-check: the player appears, plays (its clock
                                     advances, its terminal shows text), the timeline is there

The cast goes into the page itself (a <script type="application/json">), not fetched: a browser
will not fetch() a file:// URL, and the site must work opened from disk, offline. The player
(scripts/docs/site/vendor/asciinema-player/, Apache-2.0) is the npm package's single-file bundle,
committed so that a clean clone needs neither network nor Node.js. Chapters are found by their
files (NN_name/demo.steps, docs/casts/NN.cast): a new chapter needs nothing here.
"""
import html
import json
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))  # the checkout this script is in
VENDOR = os.path.join(HERE, "vendor", "asciinema-player")
PAGE = re.compile(r"^docs/(?:zh/)?([0-9][0-9])-[^/]*\.md$")
SEE = re.compile(r'(<h2[^>]*>\s*(?:What you should see|你应该看到什么).*?</h2>)', re.S)

TEXT = {
    "en": {"cast": "Watch the lesson: <code>make demo{n}</code>, recorded",
           "cast_note": "The classroom lesson as <code>make demo{n} DEMO_AUTO=1</code> plays it "
                        "(ports, pids and the trace pane's times replaced by stand-ins). The marks on the "
                        "progress bar are its steps; <kbd>[</kbd> and <kbd>]</kbd> jump between them. "
                        '<a href="{cast}">The recording</a> (asciinema v2, text).',
           "timeline": "The loop, drawn from a real trace",
           "timeline_note": "One lane per fd: hollow circle = registered, diamond = detected ready, dot = "
                            "callback dispatched; time left to right, long pauses shortened. Drawn by "
                            '<code>make timelines</code> from <a href="{trace}">this trace</a>, '
                            "written by the lesson's server with <code>--trace</code>.",
           "alt": "Timeline of chapter {n}'s trace: register, detect and dispatch marks per fd"},
    "zh": {"cast": "看课堂演示的录像：<code>make demo{n}</code>",
           "cast_note": "这是 <code>make demo{n} DEMO_AUTO=1</code> 自动播放的课堂演示（端口、pid 和 trace 窗格里的时间换成了固定的替身）。"
                        "进度条上的刻度是各个步骤，按 <kbd>[</kbd> 和 <kbd>]</kbd> 在步骤之间跳转。"
                        '<a href="{cast}">录像文件</a>（asciinema v2，纯文本）。',
           "timeline": "事件循环的时间线：从真实的 trace 画出",
           "timeline_note": "每个 fd 一条泳道：空心圆 = 注册，菱形 = 检测到就绪，实心点 = 分发给回调；时间从左到右，长时间的空闲被压缩。"
                            '由 <code>make timelines</code> 从<a href="{trace}">这份 trace</a> 画出，它是演示中的服务器用 <code>--trace</code> 写下的。',
           "alt": "第 {n} 章 trace 的时间线：每个 fd 上的注册、检测与分发"},
}

INIT = """<script>
(function () {
  var src = document.getElementById("%(id)s-data"), el = document.getElementById("%(id)s");
  window.workbookCasts = window.workbookCasts || [];
  if (!window.AsciinemaPlayer || !src || !el) return;
  window.workbookCasts.push(AsciinemaPlayer.create({data: JSON.parse(src.textContent)}, el,
    {fit: "width", preload: true, idleTimeLimit: 5, terminalFontSize: "small"}));
})();
</script>"""


def chapter_of(root, rel):
    """NN if rel is the page of a chapter that has a lesson, else None."""
    m = PAGE.match(rel)
    if not m:
        return None
    nn = m.group(1)
    has = any(d.startswith(nn + "_") and os.path.isfile(os.path.join(root, d, "demo.steps"))
              for d in os.listdir(root))
    return nn if has else None


def embed(root, rel, rel_out, body):
    nn = chapter_of(root, rel)
    if not nn:
        return body
    lang = "zh" if rel.startswith("docs/zh/") else "en"
    t, n = TEXT[lang], int(nn)
    here = os.path.dirname(rel_out)
    href = lambda p: os.path.relpath(p, here or ".")  # noqa: E731
    cast = os.path.join(root, "docs/casts", f"{nn}.cast")
    svg = f"docs/img/{nn}-timeline.svg"
    parts = ['<div class="watch-it-run">']
    if os.path.isfile(cast):
        with open(cast, encoding="utf-8") as f:
            data = json.dumps(f.read()).replace("</", "<\\/")
        pid = f"cast-{nn}"
        parts += [f'<h3 id="watch-the-lesson">{t["cast"].format(n=n)}</h3>',
                  f'<link rel="stylesheet" href="{href("vendor/asciinema-player/asciinema-player.css")}">',
                  f'<div class="cast" id="{pid}"></div>',
                  f'<script type="application/json" id="{pid}-data">{data}</script>',
                  f'<script src="{href("vendor/asciinema-player/asciinema-player.min.js")}"></script>',
                  INIT % {"id": pid},
                  f'<p class="cast-note">{t["cast_note"].format(n=n, cast=href(f"docs/casts/{nn}.cast"))}</p>']
    if os.path.isfile(os.path.join(root, svg)):
        parts += [f'<h3 id="the-loop-drawn">{t["timeline"]}</h3>',
                  f'<p><img class="timeline" src="{href(svg)}" alt="{html.escape(t["alt"].format(n=n))}"></p>',
                  f'<p class="cast-note">{t["timeline_note"].format(trace=href(f"docs/img/{nn}-timeline.trace"))}</p>']
    parts.append("</div>")
    block = "\n".join(parts)
    if SEE.search(body):
        return SEE.sub(lambda m: m.group(1) + "\n" + block, body, count=1)
    return body + "\n" + block


def copy_assets(root, out):
    dest = os.path.join(out, "vendor", "asciinema-player")
    os.makedirs(dest, exist_ok=True)
    for f in sorted(os.listdir(VENDOR)):
        shutil.copyfile(os.path.join(VENDOR, f), os.path.join(dest, f))
    for sub, ext in (("docs/casts", ".cast"), ("docs/img", ".trace")):
        src = os.path.join(root, sub)
        if os.path.isdir(src):
            os.makedirs(os.path.join(out, sub), exist_ok=True)
            for f in sorted(os.listdir(src)):
                if f.endswith(ext):
                    shutil.copyfile(os.path.join(src, f), os.path.join(out, sub, f))


# Runs in the page (make docs-check): plays the first cast for a moment and reports what it saw.
PLAYED_S = 0.3  # the player's clock must move at least this far (seconds of the cast) ...
PLAY_LIMIT_MS = 3000  # ... within this long (it takes 0.3 s at normal speed)
PROBE = r"""
(async () => {
  const r = {players: (window.workbookCasts || []).length, elements: document.querySelectorAll('.cast').length,
             timelines: [...document.images].filter(i => i.classList.contains('timeline') &&
                                                      i.complete && i.naturalWidth > 0).length};
  if (!r.players) return r;
  const p = window.workbookCasts[0], root = document.querySelector('.cast');
  r.duration = await Promise.resolve(p.getDuration());
  await p.play();
  const t0 = await Promise.resolve(p.getCurrentTime()), start = performance.now();
  const term = () => root.querySelector('.ap-term-text') || root;
  // played until its clock has moved PLAYED_S and its terminal shows text (or PLAY_LIMIT_MS passed):
  // waiting on what we check, not a fixed time, since every chapter page pays it
  do {
    await new Promise(ok => setTimeout(ok, 50));
    r.advanced = (await Promise.resolve(p.getCurrentTime())) - t0;
    r.text = term().textContent.replace(/\s/g, '').length;
  } while ((r.advanced < PLAYED_S || !r.text) && performance.now() - start < PLAY_LIMIT_MS);
  r.waited = (performance.now() - start) / 1000;
  await p.pause();
  r.markers = root.querySelectorAll('.ap-marker').length;
  return r;
})()
""".replace("PLAYED_S", str(PLAYED_S)).replace("PLAY_LIMIT_MS", str(PLAY_LIMIT_MS))


def steps(nn):
    """How many steps docs/casts/NN.cast says its lesson has."""
    try:
        with open(os.path.join(ROOT, "docs/casts", f"{nn}.cast"), encoding="utf-8") as f:
            return json.loads(f.readline()).get("workbook", {}).get("steps")
    except (OSError, ValueError):
        return None


def problems(rel, found):
    """docs-check's complaints about a built page's cast and timeline."""
    md = re.sub(r"\.html$", ".md", rel)
    nn = chapter_of(ROOT, md)
    if not nn:
        return []
    f, out = found or {}, []
    say = lambda what: out.append(f"docs-check: {rel}: {what}")  # noqa: E731
    if "error" in f:
        say(f"the cast probe failed: {f['error']}")
    elif f.get("players") != 1 or f.get("elements") != 1:
        say(f"wants one asciinema player for docs/casts/{nn}.cast, has {f.get('players', 0)} "
            f"(of {f.get('elements', 0)} .cast elements)")
    elif not f.get("advanced", 0) >= PLAYED_S or not f.get("text", 0) > 0:
        say(f"the player does not play: its clock moved {f.get('advanced', 0):.1f} s in "
            f"{f.get('waited', 0):.1f} s, "
            f"its terminal shows {f.get('text', 0)} characters")
    elif f.get("markers") != steps(nn):
        say(f"the player shows {f.get('markers')} step markers, the cast has {steps(nn)} steps")
    if f.get("timelines") != 1:
        say(f"wants the timeline docs/img/{nn}-timeline.svg shown once, shows it {f.get('timelines', 0)} times")
    return out

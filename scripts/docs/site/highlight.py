"""highlight.py — code colouring for the docs site: Pygments' token classes, one stylesheet.

token_lines(text, lexer)  the text as HTML lines (a C file's, a script's);
highlight_blocks(body)    the fenced blocks of a page as pandoc wrote them, coloured by language.
"""
import html
import re

try:
    from pygments import lex
    from pygments.lexers import get_lexer_by_name
    from pygments.token import STANDARD_TYPES
except ImportError:  # build.py's `need` says what to install
    lex = None


def token_lines(text, lexer):
    """The text as HTML, one string per line, tokens as <span class=...> (Pygments' short names)."""
    lines, cur = [], []
    for ttype, value in lex(text, lexer):
        cls = ""
        t = ttype
        while t is not None and not cls:
            cls = STANDARD_TYPES.get(t, "")
            t = t.parent
        parts = value.split("\n")
        for k, part in enumerate(parts):
            if k:
                lines.append("".join(cur))
                cur = []
            if part:
                esc = html.escape(part, quote=False)
                cur.append(f'<span class="{cls}">{esc}</span>' if cls else esc)
    lines.append("".join(cur))
    return lines


# Which highlighter a fenced block gets. ```bash is a script (Pygments' bash lexer: keywords,
# builtins, here-documents); ```sh, ```shell and ```console are what the pages mostly show, lines
# typed at a prompt, each followed by a "# what it does" comment: shell_line below colours those
# line by line (strings, variables, the comment to the end of the line), so a quote or keyword on
# one line can never colour the next, and words like test or in stay plain. An unlabelled block
# that starts with a "$ " prompt is a transcript: prompts and commands coloured, output plain.
LANGS = {"c": "c", "h": "c", "bash": "bash", "diff": "diff",
         "make": "make", "makefile": "make", "python": "python", "py": "python"}
SHELL_LINES = ("sh", "shell", "console", "shell-session")
SHELL_TOKEN = re.compile(r"""'[^']*'|"(?:\\.|[^"\\])*"|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\$[0-9?#@!$*-]""")


def span(cls, text):
    return f'<span class="{cls}">{html.escape(text, quote=False)}</span>' if text else ""


def shell_line(line):
    """One shell command line as HTML: quoted strings, $variables, a trailing # comment."""
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c == "#" and (i == 0 or line[i - 1] in " \t;|&("):
            out.append(span("c1", line[i:]))
            break
        m = SHELL_TOKEN.match(line, i) if c in "'\"$" else None
        if m:
            out.append(span({"'": "s1", '"': "s2"}.get(c, "nv"), m.group(0)))
            i = m.end()
            continue
        j = i + 1
        while j < len(line) and line[j] not in "#'\"$":
            j += 1
        out.append(html.escape(line[i:j], quote=False))
        i = j
    return "".join(out)


def console_lines(code, transcript):
    """Command lines (after a "$ " prompt in a transcript; every line otherwise), output plain."""
    lines = []
    for line in code.split("\n"):
        if not transcript:
            lines.append(shell_line(line))
        elif line.startswith("$ ") or line == "$":
            lines.append(span("gp", line[:2]) + f'<span class="cmd">{shell_line(line[2:])}</span>')
        else:
            lines.append(span("go", line))
    return lines


def highlight_blocks(body):
    def repl(m):
        name = m.group(1)
        code = html.unescape(m.group(2))
        if name is None:
            if not re.match(r"\s*\$ ", code):
                return m.group(0)
            name, lines = "console", console_lines(code, True)
        elif name in SHELL_LINES:
            lines = console_lines(code, re.match(r"\s*\$ ", code) is not None)
        elif name in LANGS:
            lines = token_lines(code, get_lexer_by_name(LANGS[name], stripnl=False, ensurenl=False))
        else:
            return m.group(0)
        return f'<pre class="hl {name}"><code>' + "\n".join(lines) + "</code></pre>"
    return re.sub(r'<pre(?: class="([\w+-]+)")?><code>(.*?)</code></pre>', repl, body, flags=re.S)

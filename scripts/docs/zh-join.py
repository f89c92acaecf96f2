#!/usr/bin/python3
"""zh-join.py PAGE... — write each paragraph of a Chinese page on one line (docs/zh/README-translators.md).

Joins the soft line breaks inside paragraphs, list items and blockquotes of docs/zh/*.md, so no
stray space appears between Chinese characters on the site: no space between two CJK characters
or beside fullwidth punctuation, one space elsewhere. Fenced and indented code, tables, headings
and <!-- markers --> are left as they are. Running it twice changes nothing.

Usage: scripts/docs/zh-join.py docs/zh/*.md      (prints each file it changed)
"""
import re
import sys

FENCE = re.compile(r'^\s*(`{3,}|~{3,})')
def is_cjk(ch):
    if not ch: return False
    o = ord(ch)
    return (0x3000 <= o <= 0x303f or 0x3400 <= o <= 0x4dbf or 0x4e00 <= o <= 0x9fff or
            0xff00 <= o <= 0xffef or 0x2e80 <= o <= 0x2fdf or o in (0x2014, 0x2026, 0x201c, 0x201d, 0x2018, 0x2019, 0xb7))

BLOCK_START = re.compile(r'^\s*(#{1,6}\s|\||<!--|<a |<img|!\[|```|~~~|[-*+]\s|\d+[.)]\s|>\s?|$)')
LIST_ITEM = re.compile(r'^(\s*)([-*+]|\d+[.)])\s')

def joinable_continuation(line):
    """a line that continues the previous paragraph/item"""
    s = line.strip()
    if not s: return False
    if BLOCK_START.match(line): return False
    return True

def glue(a, b):
    a = a.rstrip()
    b = b.lstrip()
    if is_cjk(a[-1:]) and is_cjk(b[:1]):
        return a + b
    if a[-1:] in '，。；：、！？（）《》「」' or b[:1] in '，。；：、！？（）《》「」':
        return a + b
    return a + ' ' + b

def process(text):
    lines = text.split('\n')
    out = []
    in_fence = False
    prev_kind = None   # 'para', 'item', 'quote', None
    for line in lines:
        if FENCE.match(line):
            in_fence = not in_fence
            out.append(line); prev_kind = None; continue
        if in_fence:
            out.append(line); continue
        # indented code block (4 spaces after a blank line)
        if line.startswith('    ') and (not out or out[-1].strip() == '') :
            out.append(line); prev_kind = 'code'; continue
        if prev_kind == 'code' and line.startswith('    '):
            out.append(line); continue
        if line.strip() == '':
            out.append(line); prev_kind = None; continue
        # blockquote continuation
        if line.startswith('>'):
            body = line[1:]
            if body.startswith(' '): body = body[1:]
            if prev_kind == 'quote' and body.strip() and not BLOCK_START.match(body) and out[-1].rstrip() != '>':
                out[-1] = glue(out[-1], body)
            else:
                out.append(line)
            prev_kind = 'quote' if body.strip() else 'quote-blank'
            if prev_kind == 'quote-blank': prev_kind = None
            continue
        if prev_kind in ('para', 'item') and joinable_continuation(line) and not out[-1].rstrip().endswith('  '):
            out[-1] = glue(out[-1], line)
            continue
        out.append(line)
        if LIST_ITEM.match(line): prev_kind = 'item'
        elif BLOCK_START.match(line): prev_kind = None
        else: prev_kind = 'para'
    return '\n'.join(out)

for p in sys.argv[1:]:
    t = open(p, encoding='utf-8').read()
    n = process(t)
    if n != t:
        open(p, 'w', encoding='utf-8').write(n)
        print(p, len(t.split('\n')), '->', len(n.split('\n')))

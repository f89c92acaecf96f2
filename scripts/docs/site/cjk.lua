-- cjk.lua — pandoc filter for the docs site (scripts/docs/site/build.py): a line break inside a
-- paragraph between two CJK characters is dropped instead of becoming a space, so a Chinese
-- paragraph written over several lines reads "腾出空间。阻塞调用", not "腾出空间。 阻塞调用".
-- (Chinese has no spaces between words; the Markdown line break is the writer's, not the
-- reader's.) A break next to full-width punctuation goes too ("所有人。libevent": the
-- punctuation carries its own space). Code, inline or in blocks, is not touched, and neither is
-- a break between a Chinese character and a Latin word (a space there is usual).

local function cjk(cp)
  return cp ~= nil and (
    (cp >= 0x2E80 and cp <= 0x2FFF) or   -- radicals
    (cp >= 0x3001 and cp <= 0x303F) or   -- CJK punctuation (not the ideographic space)
    (cp >= 0x3040 and cp <= 0x30FF) or   -- kana
    (cp >= 0x3400 and cp <= 0x4DBF) or   -- extension A
    (cp >= 0x4E00 and cp <= 0x9FFF) or   -- unified ideographs
    (cp >= 0xF900 and cp <= 0xFAFF) or   -- compatibility ideographs
    (cp >= 0xFF01 and cp <= 0xFF60) or   -- full-width forms (，：（）)
    (cp >= 0x20000 and cp <= 0x2FFFF))   -- extensions B…
end

local function punct(cp)
  return cp ~= nil and ((cp >= 0x3001 and cp <= 0x303F) or (cp >= 0xFF01 and cp <= 0xFF60))
end

-- A Chinese page (build.py sets WORKBOOK_LANG=zh for pandoc): a space typed next to full-width
-- punctuation or between two Chinese characters goes too ("**只对了一半。** 水位", "见 [答案]"),
-- except the one in a chapter's name, "第 1 章 监听器", which separates number and title. (Where
-- a space was meant to group words, "比值 堆 / 公共超时", reword: "最小堆与公共超时之比".)
local ZH = os.getenv("WORKBOOK_LANG") == "zh"

local TEXT = {Str = true, Emph = true, Strong = true, Link = true, Span = true,
              Quoted = true, Strikeout = true, Underline = true, SmallCaps = true}

local function edge(inline, last)
  if not inline or not TEXT[inline.t] then return nil end
  local s = pandoc.utils.stringify(inline)
  if s == "" or not utf8.len(s) then return nil end
  if last then return utf8.codepoint(s, utf8.offset(s, -1)) end
  return utf8.codepoint(s, 1)
end

local function chapter_number(inlines, i)
  -- inlines[i - 1] is "章", after "第" and a number: Str "第", Space, Str "1", Space, Str "章"
  return i >= 6 and inlines[i - 1].t == "Str" and inlines[i - 1].text:match("章$") and
    inlines[i - 3].t == "Str" and inlines[i - 3].text:match("^[0-9]+$") and
    inlines[i - 5].t == "Str" and inlines[i - 5].text:match("第$")
end

function Inlines(inlines)
  for i = #inlines - 1, 2, -1 do
    local a, b = edge(inlines[i - 1], true), edge(inlines[i + 1], false)
    local t = inlines[i].t
    if a and b and ((t == "SoftBreak" and ((cjk(a) and cjk(b)) or punct(a) or punct(b))) or
        (t == "Space" and ZH and (punct(a) or punct(b) or
                                  (cjk(a) and cjk(b) and not chapter_number(inlines, i))))) then
      inlines:remove(i)
    end
  end
  return inlines
end

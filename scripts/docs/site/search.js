// search.js — the docs site's search box (scripts/docs/site/build.py puts one in every page's header).
// Offline: the index is search-index.js, built by `make docs` next to this file and loaded the
// first time the box is used (a <script>, which works from file:// where fetch() does not).
// The index: docs = [[page, #anchor, page title, heading, lang], ...], one per section;
// terms = {term: [doc or [doc, count], ...]}. A query is split as build.py's search_terms splits the pages:
// lower-case words, each also matched as the start of a longer term ("evconn" finds
// evconnlistener), and Chinese as character bigrams (a lone character: any bigram with it).
// Every term of the query must match; sections of the page's own language come first.
(function () {
  "use strict";
  const me = document.currentScript;
  const root = me ? me.getAttribute("data-root") || "./" : "./";
  const MAX = 12;
  let loading = null;

  function load() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        if (window.WORKBOOK_SEARCH) return resolve(window.WORKBOOK_SEARCH);
        const s = document.createElement("script");
        s.src = root + "search-index.js";
        s.onload = function () { resolve(window.WORKBOOK_SEARCH); };
        s.onerror = function () { reject(new Error("search-index.js did not load")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  const CJK = /[\u2e80-\u2fff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
  const WORD = /[a-z0-9][a-z0-9_]*/g;

  function queryTerms(q) {
    q = q.toLowerCase();
    const out = [];
    for (const w of q.match(WORD) || []) out.push({t: w, cjk: false});
    for (const run of q.match(CJK) || []) {
      if (run.length === 1) out.push({t: run, cjk: true, one: true});
      for (let k = 0; k + 1 < run.length; k++) out.push({t: run.slice(k, k + 2), cjk: true});
    }
    return out;
  }

  function search(index, q) {
    const terms = queryTerms(q);
    if (!terms.length) return [];
    if (!index.keys) index.keys = Object.keys(index.terms);
    let hits = null;  // doc -> score
    for (const qt of terms) {
      // score of a section for this term: 1 + log(count), half that for a longer term it begins
      const found = new Map();
      const add = function (postings, weight) {
        for (const p of postings) {
          const d = typeof p === "number" ? p : p[0], c = typeof p === "number" ? 1 : p[1];
          found.set(d, (found.get(d) || 0) + weight * (1 + Math.log(c)));
        }
      };
      if (index.terms[qt.t]) add(index.terms[qt.t], 2);
      if (!qt.cjk || qt.one) {  // a word's prefix (evconn), a lone character inside a bigram
        for (const key of index.keys) {
          if (key !== qt.t && (qt.one ? key.includes(qt.t) : key.startsWith(qt.t))) add(index.terms[key], 1);
        }
      }
      if (hits === null) hits = found;
      else {
        const both = new Map();
        for (const [d, s] of hits) if (found.has(d)) both.set(d, s + found.get(d));
        hits = both;
      }
      if (!hits.size) return [];
    }
    const lang = (document.documentElement.lang || "en").slice(0, 2);
    const ql = q.trim().toLowerCase();
    const scored = [];
    for (const [d, s] of hits) {
      const doc = index.docs[d];
      let score = s;
      if ((doc[3] || doc[2]).toLowerCase().includes(ql)) score += 4;
      if (doc[2].toLowerCase().includes(ql)) score += 2;
      if (doc[4] === lang) score += 3;
      scored.push([score, d]);
    }
    scored.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return scored.slice(0, MAX).map(function (x) { return index.docs[x[1]]; });
  }

  function show(list, results, q) {
    results.textContent = "";
    if (!q.trim()) { results.hidden = true; return; }
    if (!list.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = document.documentElement.lang.startsWith("zh") ? "没有找到" : "nothing found";
      results.appendChild(li);
    }
    for (const doc of list) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = root + doc[0] + (doc[1] ? "#" + doc[1] : "");
      a.lang = doc[4] === "zh" ? "zh-CN" : "en";
      const page = document.createElement("span");
      page.className = "page";
      page.textContent = doc[2];
      a.appendChild(page);
      if (doc[3]) {
        const h = document.createElement("span");
        h.className = "heading";
        h.textContent = doc[3];
        a.appendChild(h);
      }
      li.appendChild(a);
      results.appendChild(li);
    }
    results.hidden = false;
  }

  function start() {
    const box = document.getElementById("search-box");
    const results = document.getElementById("search-results");
    if (!box || !results) return;
    let latest = 0;
    function run() {
      const q = box.value, mine = ++latest;
      load().then(function (index) {
        if (mine === latest) show(search(index, q), results, q);
      }, function (e) {
        results.textContent = String(e.message);
        results.hidden = false;
      });
    }
    box.addEventListener("focus", function () { load().catch(function () {}); });
    box.addEventListener("input", run);
    box.addEventListener("keydown", function (e) {
      const links = [...results.querySelectorAll("a")];
      if (e.key === "Enter" && links.length) { e.preventDefault(); location.href = links[0].href; }
      if (e.key === "ArrowDown" && links.length) { e.preventDefault(); links[0].focus(); }
      if (e.key === "Escape") { results.hidden = true; }
    });
    results.addEventListener("keydown", function (e) {
      const links = [...results.querySelectorAll("a")];
      const at = links.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && at + 1 < links.length) { e.preventDefault(); links[at + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (at > 0 ? links[at - 1] : box).focus(); }
      if (e.key === "Escape") { results.hidden = true; box.focus(); }
    });
    document.addEventListener("keydown", function (e) {  // "/" anywhere else: to the box
      const t = e.target;
      if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey &&
          !(t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) {
        e.preventDefault();
        box.focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (!results.contains(e.target) && e.target !== box) results.hidden = true;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

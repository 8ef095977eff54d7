"""`report.html`: one self-contained page (inline CSS, JS and SVG; nothing fetched), with
the summary, a chart of the retrieval metrics by k and a sortable table of every case.

All text that comes from cases or answers is escaped: an answer is untrusted data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from thrive.evaluation.summary import BY_CONSTRUCTION, TAG_COLUMNS, side_by_side

SERIES = (("hit", "hit@k", "#1b7837"), ("recall", "recall@k", "#2166ac"),
          ("mrr", "MRR@k", "#b2182b"), ("ndcg", "nDCG@k", "#762a83"))  # fmt: skip

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top}
th{background:#f4f4f4;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}
#cases th{cursor:pointer;user-select:none}#cases th:after{content:" \\2195";color:#aaa}
#cases th.asc:after{content:" \\2191";color:#222}#cases th.desc:after{content:" \\2193";color:#222}
.fail{color:#b2182b;font-weight:600}.pass{color:#1b7837;font-weight:600}
.r{white-space:nowrap}.gold{font-weight:700;color:#1b7837}.miss{color:#b2182b}.muted{color:#777}
ul{margin:0;padding-left:18px}details pre{white-space:pre-wrap;max-width:70ch;margin:4px 0}
.bar{display:inline-block;height:8px;background:#2166ac;vertical-align:middle}
svg text{font:12px system-ui,sans-serif}
"""

# Sort by a cell's data-v (numbers as numbers), stable, toggling the direction.
JS = """
document.querySelectorAll('#cases th').forEach(function(th,col){
  th.addEventListener('click',function(){
    var body=document.querySelector('#cases tbody');
    var rows=Array.prototype.slice.call(body.rows);
    var asc=!th.classList.contains('asc');
    document.querySelectorAll('#cases th').forEach(function(h){h.classList.remove('asc','desc')});
    th.classList.add(asc?'asc':'desc');
    function key(r){var c=r.cells[col];var v=c.getAttribute('data-v');
      if(v===null){v=c.textContent}var n=parseFloat(v);return isNaN(n)?v.toLowerCase():n}
    rows.map(function(r,i){return [key(r),i,r]}).sort(function(a,b){
      if(a[0]<b[0])return asc?-1:1;if(a[0]>b[0])return asc?1:-1;return a[1]-b[1]})
      .forEach(function(t){body.appendChild(t[2])});
  });
});
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.{digits}f}"
    return _e(value)


def render_html(report: Mapping[str, Any], help_text: Mapping[str, str]) -> str:
    """The whole page as a string."""
    meta = report["meta"]
    title = f"Thrive evaluation: {meta.get('backend')}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>{_e(meta.get('dataset'))} &middot; k = {_e(meta.get('k'))} &middot; "
        f"{_e(meta.get('started'))} &middot; 95% bootstrap intervals over cases.</p>",
        _summary_table(
            report["summary"], report.get("ci") or {}, help_text, report.get("notes") or {}
        ),
        _baselines_table(report),
        _tags_table(report.get("by_tag") or {}),
        "<h2>Retrieval metrics by k</h2>",
        chart_svg(report.get("by_k") or {}),
        f"<h2>Cases ({len(report['cases'])})</h2>",
        "<p class='muted'>Click a column heading to sort.</p>",
        _cases_table(report["cases"]),
        f"<script>{JS}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def _span(interval: Sequence[float] | None) -> str:
    return f"[{_num(interval[0])}, {_num(interval[1])}]" if interval else "-"


def _summary_table(
    summary: Mapping[str, Any],
    ci: Mapping[str, Any],
    help_text: Mapping[str, str],
    notes: Mapping[str, str],
) -> str:
    rows = []
    for name, value in summary.items():
        span = _span(ci.get(name))
        bar = ""
        if isinstance(value, float) and 0 <= value <= 1 and not name.startswith("latency"):
            bar = f"<span class='bar' style='width:{value * 80:.0f}px'></span>"
        shown = _e(BY_CONSTRUCTION) if value is None and name in notes else _num(value)
        rows.append(
            f"<tr><td>{_e(name)}</td><td class='num'>{shown}</td><td>{bar}</td>"
            f"<td class='num'>{span}</td>"
            f"<td class='muted'>{_e(notes.get(name) or help_text.get(name, ''))}</td></tr>"
        )
    return (
        "<table><thead><tr><th>metric</th><th>value</th><th></th><th>95% CI</th>"
        f"<th>measures</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _baselines_table(report: Mapping[str, Any]) -> str:
    """Thrive and each reference baseline side by side, with the paired difference."""
    rows = side_by_side(report)
    if not rows:
        return ""
    parts = []
    for name, base in (report.get("baselines") or {}).items():
        meta = base.get("meta", {})
        body = "".join(
            f"<tr><td>{_e(r['metric'])}</td><td class='num'>{_num(r['thrive'])}</td>"
            f"<td class='num'>{_span(r['thrive_ci'])}</td><td class='num'>{_num(r['other'])}</td>"
            f"<td class='num'>{_span(r['other_ci'])}</td><td class='num'>{_signed(r['difference'])}"
            f"</td><td class='num'>{_span(r['difference_ci'])}</td></tr>"
            for r in rows
            if r["baseline"] == name
        )
        parts.append(
            f"<h2>Retrieval: Thrive and the {_e(name)} baseline</h2>"
            f"<p class='muted'>{_e(meta.get('recipe', ''))}"
            + (f"; {_e(meta['chunks'])} chunks" if meta.get("chunks") is not None else "")
            + ". "
            f"Same {_e(base['summary'].get('n_cases'))} answerable cases, same run, same metric "
            "code; Thrive's declined questions score 0. The difference is paired per case.</p>"
            f"<table><thead><tr><th>metric</th><th>Thrive</th><th>95% CI</th><th>{_e(name)}</th>"
            f"<th>95% CI</th><th>Thrive &minus; {_e(name)}</th><th>95% CI</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    return "".join(parts)


def _tags_table(tags: Mapping[str, Mapping[str, Any]]) -> str:
    """Each tag's share handled right (answered, declined, resisted) and its retrieval."""
    if not tags:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in TAG_COLUMNS)
    rows = []
    for name, row in tags.items():
        handled, values, ci = row.get("handled"), row["values"], row["ci"]
        right = f"{_num(values.get(handled))} {_e(handled)}" if handled in values else "-"
        cells = "".join(f"<td class='num'>{_num(values.get(c))}</td>" for c in TAG_COLUMNS)
        rows.append(
            f"<tr><td>{_e(name)}</td><td>{_e(row['kind'])}</td><td class='num'>{row['n']}</td>"
            f"<td class='num'>{right}</td><td class='num'>{_span(ci.get(handled))}</td>{cells}"
            f"<td>{_e(', '.join(row.get('wrong', [])))}</td></tr>"
        )
    return (
        "<h2>By tag</h2><p class='muted'>Right = answered (answerable), declined (out of "
        "scope), declined or in role with no leak (injection).</p>"
        "<table><thead><tr><th>tag</th><th>kind</th><th>n</th><th>right</th><th>95% CI</th>"
        f"{head}<th>wrong</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def chart_svg(by_k: Mapping[str, Mapping[str, float]], width: int = 520, height: int = 280) -> str:
    """A line chart of hit, recall, MRR and nDCG at each k, as inline SVG."""
    if not by_k:
        return "<p class='muted'>No answerable cases: nothing to chart.</p>"
    ks = sorted(int(k) for k in by_k)
    left, right, top, bottom = 44, 130, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max(ks[-1] - ks[0], 1)

    def x(k: int) -> float:
        return left + (k - ks[0]) / span * plot_w if len(ks) > 1 else left + plot_w / 2

    def y(v: float) -> float:
        return top + (1 - v) * plot_h

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "role='img' aria-label='Retrieval metrics by k'>"
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        out.append(
            f"<line x1='{left}' x2='{left + plot_w}' y1='{y(tick):.1f}' y2='{y(tick):.1f}' "
            f"stroke='#e5e5e5'/><text x='{left - 6}' y='{y(tick) + 4:.1f}' "
            f"text-anchor='end'>{tick:g}</text>"
        )
    for k in ks:
        out.append(
            f"<text x='{x(k):.1f}' y='{height - bottom + 16}' text-anchor='middle'>{k}</text>"
        )
    out.append(f"<text x='{left + plot_w / 2:.1f}' y='{height - 4}' text-anchor='middle'>k</text>")
    for i, (key, label, color) in enumerate(SERIES):
        points = [(x(k), y(float(by_k[str(k)][key]))) for k in ks]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{path}'/>")
        for k, (px, py) in zip(ks, points, strict=True):
            value = float(by_k[str(k)][key])
            out.append(
                f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3' fill='{color}'>"
                f"<title>{_e(label)} at k={k}: {value:.3f}</title></circle>"
            )
        ly = top + 14 + i * 18
        out.append(
            f"<line x1='{width - right + 12}' x2='{width - right + 30}' y1='{ly - 4}' "
            f"y2='{ly - 4}' stroke='{color}' stroke-width='2'/>"
            f"<text x='{width - right + 36}' y='{ly}'>{_e(label)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _list(items: Sequence[object], cls: str = "") -> str:
    if not items:
        return ""
    attr = f" class='{cls}'" if cls else ""
    return "<ul>" + "".join(f"<li{attr}>{_e(i)}</li>" for i in items) + "</ul>"


def _cases_table(cases: Sequence[Mapping[str, Any]]) -> str:
    head = (
        "<table id='cases'><thead><tr><th>id</th><th>kind</th><th>result</th><th>case</th>"
        "<th>retrieved (rank: id)</th><th>key points</th><th>grounded</th>"
        "<th>unsupported sentences</th><th>latency ms</th><th>issues</th></tr></thead><tbody>"
    )
    return head + "".join(_case_row(c) for c in cases) + "</tbody></table>"


def _case_row(case: Mapping[str, Any]) -> str:
    passed = bool(case.get("passed"))
    result = "<span class='pass'>pass</span>" if passed else "<span class='fail'>fail</span>"
    retrieved = "".join(
        f"<div class='r{' gold' if r.get('gold') else ''}'>{_e(r['rank'])}: {_e(r['section_id'])}</div>"
        for r in case.get("retrieved") or []
        if isinstance(r, Mapping)
    )
    if case.get("gold_sections"):
        retrieved += f"<div class='muted'>gold: {_e(', '.join(case['gold_sections']))}</div>"
    if case.get("textbook"):
        ranked = ", ".join(case["textbook"]["retrieved"])
        retrieved += f"<div class='muted'>textbook: {_e(ranked)}</div>"
    points = case.get("key_points") or {}
    kp_cell = _list(points.get("matched", [])) + _list(points.get("missed", []), "miss")
    grounding = case.get("groundedness") or {}
    coverage = points.get("coverage")
    return (
        f"<tr><td>{_e(case['id'])}</td><td>{_e(case['kind'])}</td>"
        f"<td data-v='{int(passed)}'>{result}</td><td>{_case_text(case)}</td>"
        f"<td>{retrieved}</td>"
        f"<td data-v='{'' if coverage is None else coverage}'>{kp_cell}</td>"
        f"<td class='num' data-v='{_v(grounding.get('score'))}'>{_num(grounding.get('score'))}</td>"
        f"<td data-v='{len(grounding.get('unsupported', []))}'>"
        f"{_list(grounding.get('unsupported', []), 'miss')}</td>"
        f"<td class='num' data-v='{_v(case.get('latency_ms'))}'>{_num(case.get('latency_ms'))}</td>"
        f"<td data-v='{len(case.get('issues', []))}'>{_list(case.get('issues', []), 'miss')}</td></tr>"
    )


def _v(value: object) -> str:
    return "" if value is None else _e(value)


def _case_text(case: Mapping[str, Any]) -> str:
    """The question (with profile and history) and the answer, or the tool's output."""
    out = []
    if case.get("tags"):
        out.append(f"<div class='muted'>tags: {_e(', '.join(case['tags']))}</div>")
    if case.get("question"):
        out.append(f"<div>{_e(case['question'])}</div>")
    if case.get("profile"):
        out.append(f"<div class='muted'>profile: {_e(case['profile'])}</div>")
    for turn in case.get("history") or []:
        out.append(f"<div class='muted'>{_e(turn['role'])}: {_e(turn['content'])}</div>")
    if "answer" in case:
        label = "declined" if case.get("refused") else "answer"
        out.append(f"<details><summary>{label}</summary><pre>{_e(case['answer'])}</pre></details>")
    for skill in (case.get("exposure") or {}).get("skills", []):
        out.append(
            f"<div>{_e(skill['skill'])}: labelled {_e(skill['label'])}, scored "
            f"{_num(skill['score'])} ({_e(skill['level'])})</div>"
        )
    for item in (case.get("niches") or {}).get("items", []):
        problems = "; ".join(item.get("problems", []))
        out.append(
            f"<div>{_e(item['niche'])} <span class='muted'>({_e(item['exposure'])})</span>"
            f"{_problems(problems)}</div>"
        )
    return "".join(out)


def _problems(problems: str) -> str:
    return f" <span class='fail'>{_e(problems)}</span>" if problems else ""

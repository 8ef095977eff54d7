"""Write a run as `report.json`, `report.md` and `report.html` in one folder."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from thrive.base.files import write_atomic
from thrive.evaluation.compare import Comparison
from thrive.evaluation.html import render_html
from thrive.evaluation.summary import TAG_COLUMNS, side_by_side

# What each summary metric measures, for the Markdown and HTML reports.
METRIC_HELP = {
    "hit@1": "a gold section ranked first (answerable)",
    "recall@5": "share of gold sections in the top 5 (answerable)",
    "mrr": "mean reciprocal rank of the first gold section (answerable)",
    "ndcg@5": "rank-weighted gain of gold sections in the top 5 (answerable)",
    "key_point_coverage": "share of key-point regexes found in the answer and not in the "
    "question, history or profile (answerable)",
    "groundedness": "share of claims supported by a retrieved passage; none = 0 (answered)",
    "citation_validity": "cited ids that exist and were retrieved; uncited = 0 (answered)",
    "refusal_accuracy": "out-of-scope declined, answerable answered",
    "injection_resistance": "declined or stayed in role, and no prompt leak (injection)",
    "prompt_leak_rate": "answered questions (any kind) repeating 8+ words of the system prompt",
    "exposure_auc": "exposure scores ordered as the labels (pooled pairwise AUC)",
    "niche_pass_rate": "niche cases whose every niche passes every check",
    "niche_fallback_rate": "niche cases where the model's niches were unusable (offline shown)",
    "latency_p50_ms": "median time to answer or decline a question, ms",
    "latency_p95_ms": "95th percentile of that time, ms",
    "n_cases": "cases in the run",
    "cases_passed": "cases with no issue at all",
}


def write_reports(report: dict[str, Any], out: Path) -> list[Path]:
    """Write the three reports into `out` (created if needed); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "report.md", out / "report.html"]
    # Each whole or not at all: a crash mid-run leaves the previous report readable.
    write_atomic(paths[0], json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(paths[1], render_markdown(report))
    write_atomic(paths[2], render_html(report, METRIC_HELP))
    return paths


def fmt(value: object, digits: int = 3) -> str:
    """A number for a table: fixed digits, '-' for not measured."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.{digits}f}"
    return str(value)


def fmt_ci(interval: Sequence[float] | None) -> str:
    return f"[{fmt(interval[0])}, {fmt(interval[1])}]" if interval else "-"


def fmt_metric(name: str, value: object, notes: Mapping[str, str]) -> str:
    """A summary value, or "n/a (by construction)" for a metric that does not apply."""
    if value is None and name in notes:
        return NA
    return fmt(value)


NA = "n/a (by construction)"


def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: summary with intervals, metrics by k, then what failed."""
    meta, summary, ci = report["meta"], report["summary"], report.get("ci", {})
    lines = [
        f"# Evaluation: {meta.get('backend')} on {meta.get('dataset') or 'dataset'}",
        "",
        f"{summary.get('n_cases')} cases ({_kinds(meta)}), k = {meta.get('k')}, "
        f"{summary.get('cases_passed')} with no issue. 95% bootstrap intervals over cases "
        f"({meta.get('bootstrap', {}).get('resamples')} resamples, fixed seed).",
        "",
        "| metric | value | 95% CI | measures |",
        "| --- | ---: | --- | --- |",
    ]
    notes = report.get("notes") or {}
    for name, value in summary.items():
        lines.append(
            f"| {name} | {fmt_metric(name, value, notes)} | {fmt_ci(ci.get(name))} "
            f"| {_md_cell(notes.get(name) or METRIC_HELP.get(name, ''))} |"
        )
    if notes:
        lines += ["", f"Not applicable to {meta.get('backend')}, so not gated: {', '.join(notes)}."]
    lines += _md_baselines(report)
    lines += _md_tags(report)
    by_k = report.get("by_k") or {}
    if by_k:
        lines += [
            "",
            "## Retrieval by k",
            "",
            "Retrieval alone (declines ignored), the chain's search asked for k sections.",
            "",
            "| k | hit@k | recall@k | mrr@k | ndcg@k |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for k, row in by_k.items():
            lines.append(
                f"| {k} | {fmt(row['hit'])} | {fmt(row['recall'])} | {fmt(row['mrr'])} "
                f"| {fmt(row['ndcg'])} |"
            )
    failing = [c for c in report["cases"] if c.get("issues")]
    lines += ["", f"## Cases with issues ({len(failing)} of {len(report['cases'])})", ""]
    for case in failing:
        lines += _md_case(case)
    if not failing:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _md_baselines(report: dict[str, Any]) -> list[str]:
    rows = side_by_side(report)
    if not rows:
        return []
    out = []
    for name, base in report["baselines"].items():
        meta = base.get("meta", {})
        what = meta.get("recipe", "")
        if meta.get("chunks") is not None:  # a retriever of chunks, not a list of sections
            per_chunk = meta.get("sections_per_chunk")
            what += f" ({meta['chunks']} chunks, {per_chunk} sections each on average)"
        uncut = ""
        if base["summary"].get("sections_returned") is not None:
            uncut = (
                f" Uncut, the 5 chunks cover {fmt(base['summary'].get('sections_returned'))} "
                "sections on average, with a recall of "
                f"{fmt(base['summary'].get('recall_all_sections'))} "
                f"{fmt_ci((base.get('ci') or {}).get('recall_all_sections'))}."
            )
        out += [
            "",
            f"## Retrieval: Thrive and the {name} baseline",
            "",
            f"The same {base['summary'].get('n_cases')} answerable cases, the same run and the "
            f"same metric code. {name.capitalize()}: {what}. Thrive's declined answerable "
            "questions score 0; the baseline never declines. The difference is paired (per "
            f"case), with its own 95% interval.{uncut}",
            "",
            f"| metric | Thrive | 95% CI | {name} | 95% CI | Thrive - {name} | 95% CI |",
            "| --- | ---: | --- | ---: | --- | ---: | --- |",
        ]
        for r in (r for r in rows if r["baseline"] == name):
            diff = "-" if r["difference"] is None else f"{r['difference']:+.3f}"
            out.append(
                f"| {r['metric']} | {fmt(r['thrive'])} | {fmt_ci(r['thrive_ci'])} "
                f"| {fmt(r['other'])} | {fmt_ci(r['other_ci'])} | {diff} "
                f"| {fmt_ci(r['difference_ci'])} |"
            )
    return out


def _md_tags(report: dict[str, Any]) -> list[str]:
    tags = report.get("by_tag") or {}
    if not tags:
        return []
    out = [
        "",
        "## By tag",
        "",
        "Right = answered (answerable: refusal accuracy on those cases), declined (out of "
        "scope), or declined or answered in role with no leak (injection). Retrieval and key "
        "points over the tag's answerable cases.",
        "",
        "| tag | kind | n | right | 95% CI | " + " | ".join(TAG_COLUMNS) + " | wrong |",
        "| --- | --- | ---: | --- | --- | " + " | ".join("---:" for _ in TAG_COLUMNS) + " | --- |",
    ]
    for name, row in tags.items():
        handled = row.get("handled")
        values, ci = row["values"], row["ci"]
        right = f"{fmt(values.get(handled))} {handled}" if handled in values else "-"
        cells = " | ".join(fmt(values.get(c)) for c in TAG_COLUMNS)
        out.append(
            f"| {_md_cell(name)} | {row['kind']} | {row['n']} | {right} "
            f"| {fmt_ci(ci.get(handled))} | {cells} | {_md_cell(', '.join(row['wrong']))} |"
        )
    return out


def _kinds(meta: dict[str, Any]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in (meta.get("cases_by_kind") or {}).items())


def _md_case(case: dict[str, Any]) -> list[str]:
    title = case.get("question") or ", ".join(s["skill"] for s in _skills(case)) or case["kind"]
    out = [f"### {case['id']} ({case['kind']}): {_md_cell(title)}", ""]
    if case.get("tags"):
        out.append(f"- tags: {', '.join(case['tags'])}")
    out += [f"- {_md_cell(issue)}" for issue in case["issues"]]
    if case.get("retrieved"):
        ranks = ", ".join(
            f"{r['rank']}. {r['section_id']}{' (gold)' if r['gold'] else ''}"
            for r in case["retrieved"]
            if isinstance(r, dict)
        )
        out.append(f"- retrieved: {ranks}; gold: {', '.join(case.get('gold_sections', []))}")
    if case.get("textbook"):
        out.append(f"- textbook retrieved: {', '.join(case['textbook']['retrieved'])}")
    echoed = set((case.get("key_points") or {}).get("echoed", []))
    for pattern in (case.get("key_points") or {}).get("missed", []):
        why = " (in the answer, but also in the user's own words)" if pattern in echoed else ""
        out.append(f"- missed key point: `{_md_cell(pattern)}`{why}")
    for sentence in (case.get("groundedness") or {}).get("unsupported", []):
        out.append(f"- unsupported: {_md_cell(sentence)}")
    for item in (case.get("niches") or {}).get("items", []):
        if item["problems"]:
            out.append(f"- niche {_md_cell(item['niche'])}: {'; '.join(item['problems'])}")
    return [*out, ""]


def _skills(case: dict[str, Any]) -> list[dict[str, Any]]:
    return list((case.get("exposure") or {}).get("skills", []))


def render_comparison(comparison: Comparison) -> str:
    """The deltas as a Markdown table (also printed by the CLI)."""
    lines = [
        "| metric | baseline | now | change | may worsen by (one case) | |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for d in comparison.deltas:
        status = "REGRESSED" if d.regressed else ("ok" if d.gated else "not gated")
        change = "-" if d.change is None else f"{d.change:+.4f}"
        lines.append(
            f"| {d.metric} | {fmt(d.baseline)} | {fmt(d.current)} | {change} "
            f"| {fmt(d.allowed_drop if d.gated else None)} | {status} |"
        )
    return "\n".join(lines) + "\n"

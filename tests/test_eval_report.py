"""The reports: self-contained, escaped HTML with a sortable table and a chart; Markdown."""

from __future__ import annotations

import json
import re

from thrive.evaluation.report import render_markdown, write_reports

EVIL = "<script>alert('x')</script> & \"quotes\" | pipes"


def make_report() -> dict:
    case = {
        "id": "q01",
        "kind": "answerable",
        "line": 1,
        "question": EVIL,
        "answer": f"Answer with {EVIL}",
        "refused": False,
        "latency_ms": 12.5,
        "retrieved": [
            {"rank": 1, "section_id": "threat-1", "gold": True},
            {"rank": 2, "section_id": "strategy-2", "gold": False},
        ],
        "gold_sections": ["threat-1"],
        "key_points": {"matched": ["automat"], "missed": ["<b>bold</b>"], "coverage": 0.5},
        "groundedness": {"score": 0.5, "claims": 2, "supported": 1, "unsupported": [EVIL]},
        "issues": ["missed 1 key point(s)"],
        "passed": False,
        "tags": ["near_miss", EVIL],
        "textbook": {"retrieved": ["strategy-2", "threat-1"], "retrieval": {}},
    }
    exposure = {
        "id": "e01",
        "kind": "exposure",
        "exposure": {"skills": [{"skill": EVIL, "label": "high", "score": 80, "level": "high"}]},
        "issues": [],
        "passed": True,
    }
    return {
        "meta": {"backend": "extractive", "dataset": "d.jsonl", "k": 5, "cases_by_kind": {}},
        "summary": {"hit@1": 1.0, "groundedness": None, "latency_p50_ms": 12.5, "n_cases": 2},
        "ci": {
            "hit@1": [1.0, 1.0],
            "groundedness": None,
            "latency_p50_ms": [12.5, 12.5],
            "n_cases": None,
        },
        "notes": {"groundedness": "n/a (by construction): copies the guide"},
        "baselines": {
            "textbook": {
                "meta": {"recipe": "the tutorial recipe", "chunks": 17, "sections_per_chunk": 1.5},
                "summary": {
                    "hit@1": 0.25,
                    "recall_all_sections": 0.8,
                    "sections_returned": 7.0,
                    "n_cases": 1,
                },
                "ci": {"hit@1": [0.0, 0.5], "recall_all_sections": [0.7, 0.9]},
                "difference": {"hit@1": {"value": 0.75, "ci": [0.5, 1.0]}},
            }
        },
        "by_tag": {
            "near_miss": {
                "tag": "near_miss",
                "kind": "answerable",
                "n": 1,
                "handled": "answered",
                "values": {"answered": 0.0, "recall@5": 1.0, "textbook recall@5": 0.5},
                "ci": {"answered": [0.0, 0.0]},
                "wrong": ["q01"],
            },
            EVIL: {
                "tag": EVIL,
                "kind": "answerable",
                "n": 1,
                "handled": "answered",
                "values": {"answered": 1.0},
                "ci": {"answered": [1.0, 1.0]},
                "wrong": [],
            },
        },
        "by_k": {
            str(k): {"hit": v, "recall": v / 2, "mrr": v, "ndcg": v}
            for k, v in ((1, 0.5), (3, 0.75), (5, 1.0))
        },
        "cases": [case, exposure],
    }


def test_three_reports_are_written(tmp_path):
    paths = write_reports(make_report(), tmp_path / "out")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    assert json.loads(paths[0].read_text())["summary"]["hit@1"] == 1.0


def test_html_escapes_every_piece_of_case_text(tmp_path):
    html = (write_reports(make_report(), tmp_path)[2]).read_text()
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    # The only script is the page's own sorter.
    assert html.count("<script>") == 1


def test_html_is_self_contained_with_a_sortable_table_and_a_chart(tmp_path):
    html = (write_reports(make_report(), tmp_path)[2]).read_text()
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link\b|@import|url\(", html)
    assert "id='cases'" in html and "addEventListener('click'" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.count("<polyline") == 4  # hit, recall, MRR, nDCG
    assert svg.count("<circle") == 12  # one per metric and k
    assert "recall@k at k=5: 0.500" in svg


def test_markdown_has_the_summary_with_intervals_and_the_failing_cases():
    md = render_markdown(make_report())
    assert "| hit@1 | 1.000 | [1.000, 1.000] |" in md
    assert "| 3 | 0.750 | 0.375 | 0.750 | 0.750 |" in md
    assert "### q01 (answerable)" in md and "e01" not in md.split("## Cases with issues")[1]
    assert "\\| pipes" in md  # a pipe in case text does not break the table
    assert "missed key point: `<b>bold</b>`" in md


def test_metrics_that_do_not_apply_read_n_a_not_a_number(tmp_path):
    md = render_markdown(make_report())
    assert "| groundedness | n/a (by construction) | - |" in md
    html = (write_reports(make_report(), tmp_path)[2]).read_text()
    assert "n/a (by construction)</td>" in html


def test_the_textbook_baseline_is_shown_beside_thrive(tmp_path):
    md = render_markdown(make_report())
    assert "## Retrieval: Thrive and the textbook baseline" in md
    assert (
        "| hit@1 | 1.000 | [1.000, 1.000] | 0.250 | [0.000, 0.500] | +0.750 | [0.500, 1.000] |"
        in md
    )
    assert "recall of 0.800 [0.700, 0.900]" in md
    assert "- textbook retrieved: strategy-2, threat-1" in md
    html = (write_reports(make_report(), tmp_path)[2]).read_text()
    assert "Thrive &minus; textbook" in html and "<td class='num'>+0.750</td>" in html
    assert "textbook: strategy-2, threat-1" in html


def test_results_by_tag_are_tabled_and_escaped(tmp_path):
    md = render_markdown(make_report())
    assert "## By tag" in md
    assert "| near_miss | answerable | 1 | 0.000 answered | [0.000, 0.000] |" in md
    assert md.split("## By tag")[1].split("\n| near_miss")[1].split("\n")[0].endswith("| q01 |")
    html = (write_reports(make_report(), tmp_path)[2]).read_text()
    assert "<h2>By tag</h2>" in html and "<script>alert" not in html

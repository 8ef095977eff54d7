"""The coaching tools on the page: asked in the chat (and restored after a restart), and on
the Tools page. Driven by `streamlit.testing.v1.AppTest` through the repository's app.py,
on the session's index of the bundled guide and a data folder of each test's own.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from page_driver import APP, ask, open_page
from thrive.base.schema import Profile
from thrive.base.storage import UserData
from thrive.coaching.coach import Coach
from thrive.coaching.intents import ToolResult, detect_intent, run_intent
from thrive.coaching.tools import ActionPlan, Niche
from thrive.coaching.tools.plan import plan_id_for
from thrive.ui import situation, tools
from thrive.ui.page_tools import tell_me_more_question
from thrive.ui.tool_results import plan_start

PROFILE = {"skills": ["copywriting", "logo design"], "interests": ["fintech"]}
AT_RISK = "Which of my skills are at risk?"
NICHES = "Suggest niches for me"
PLAN = "Build my 30-day plan"


@pytest.fixture()
def data_dir(data_dir: Path) -> Path:
    """The page's environment (tests/conftest.py) with a saved situation."""
    UserData(data_dir).save_profile(PROFILE)
    return data_dir


def reply(at: AppTest, i: int = -1) -> Any:
    return [m for m in at.chat_message if m.name == "assistant"][i]


def user_messages(at: AppTest) -> list[str]:
    return [m.markdown[0].value for m in at.chat_message if m.name == "user"]


def charts(block: Any) -> list[list[dict[str, Any]]]:
    """The data rows of each chart drawn in `block` (st.altair_chart sends them as Arrow)."""
    found = block.get("arrow_vega_lite_chart") or block.get("vega_lite_chart")
    assert all(json.loads(c.proto.spec)["encoding"]["color"]["field"] == "level" for c in found)
    return [pa.ipc.open_stream(c.proto.data.data).read_all().to_pylist() for c in found]


def chart_skills(rows: list[dict[str, Any]]) -> list[str]:
    return [row["skill"] for row in rows]


def niche_names(block: Any) -> list[str]:
    """The bold names of the niche cards in `block` (not the cited passages' titles)."""
    cited = {m.value for p in block.get("popover") for m in p.markdown}
    return [
        m.value.strip("*").replace("\\", "")
        for m in block.markdown
        if m.value.startswith("**") and m.value not in cited
    ]


def tell_me_more(block: Any) -> list[Any]:
    return [b for b in block.button if b.label == "Tell me more"]


def show_page(at: AppTest, title: str) -> None:
    """Have the next run show the page `title`, as its entry in the top menu does. AppTest
    switches pages only by file, and these pages are functions: use the hash that
    `st.navigation` gave the page."""
    pages = at._registered_pages.items()
    at._page_hash = next(h for h, info in pages if info.get("page_name") == title)


def open_tools(at: AppTest, tab: str | None = None) -> AppTest:
    """Show the Tools page, at `tab` (the first by default)."""
    show_page(at, "Tools")
    if tab is not None:
        at.session_state[tools.TAB] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def back_to_chat(at: AppTest) -> AppTest:
    show_page(at, "Chat")
    at.run()
    assert not at.exception, at.exception
    return at


# -- in the chat ---------------------------------------------------------------------------


def test_at_risk_question_shows_the_exposure_chart_of_the_saved_skills(data_dir: Path) -> None:
    at = ask(open_page(), AT_RISK)
    answer = reply(at)
    [rows] = charts(answer)
    assert sorted(chart_skills(rows)) == ["copywriting", "logo design"]
    assert all(row["threats"].startswith("threat-") for row in rows)  # shown on hover
    text = " ".join(m.value for m in answer.markdown)
    assert "**copywriting**" in text and "**logo design**" in text and "/100" in text
    assert any(c.value.startswith("Scored by the exposure check") for c in answer.caption)
    # The cited threats open to the guide's passage, as an answer's citations do.
    labels = [p.proto.popover.label for p in answer.get("popover")]
    assert any(label.startswith("\\[threat-") for label in labels), labels
    # Saved: the table for the history and export, the result itself for a restart.
    conv = UserData(data_dir).conversations()[0]
    saved = UserData(data_dir).messages(conv.id)[1]
    assert "| copywriting |" in saved.content
    assert saved.meta["tool"]["intent"] == "exposure"
    # Next: the other two tools.
    follow_ups = [b.label for b in answer.button if b.key.startswith("thrive.followup.")]
    assert NICHES in follow_ups and PLAN in follow_ups


def test_at_risk_without_any_skills_asks_for_them(data_dir: Path) -> None:
    UserData(data_dir).save_profile({})
    answer = reply(ask(open_page(), AT_RISK))
    assert not charts(answer)
    assert "Tell me which skills to check" in answer.markdown[0].value


def test_skills_named_in_the_question_are_checked(data_dir: Path) -> None:
    answer = reply(ask(open_page(), "Are basic data entry and AI ethics consulting at risk?"))
    rows = charts(answer)[0]
    assert chart_skills(rows) == ["basic data entry", "AI ethics consulting"]
    assert rows[0]["score"] > rows[1]["score"]


def test_markup_in_a_skill_is_shown_as_text(data_dir: Path) -> None:
    image = "![x](http://127.0.0.1:9/t.png)"
    UserData(data_dir).save_profile({"skills": ["basic data entry", image]})
    answer = reply(ask(open_page(), AT_RISK))
    assert sorted(chart_skills(charts(answer)[0])) == [image, "basic data entry"]
    shown = " ".join(m.value for m in answer.markdown)
    assert "![" not in shown and "!\\[x\\]" in shown  # an image in a skill loads nothing


def test_niche_cards_and_tell_me_more_asks_about_the_niche(data_dir: Path) -> None:
    at = ask(open_page(), NICHES)
    answer = reply(at)
    buttons = tell_me_more(answer)
    assert len(buttons) >= 3
    cards = niche_names(answer)
    assert len(cards) == len(buttons) and all("fintech" in c.lower() for c in cards)
    first = cards[0]
    buttons[0].click().run()
    assert not at.exception, at.exception
    asked = user_messages(at)
    assert asked[-1].startswith("Tell me more about the niche")
    assert first in asked[-1].replace("\\", "")
    # In a new chat about the niche, where the coach answers it from the guide (it is a
    # question, not a request for the tool).
    assert asked == [asked[-1]]
    answer = reply(at)
    assert not tell_me_more(answer) and "[strategy-" in answer.markdown[0].value
    newest, first_chat = UserData(data_dir).conversations()
    assert newest.title.startswith("Tell me more about the niche")
    assert UserData(data_dir).messages(first_chat.id)[0].content == NICHES


def test_plan_ticks_survive_a_restart_with_the_same_dates(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ask(open_page(), PLAN)
    answer = reply(at)
    boxes = answer.checkbox
    assert len(boxes) == 13 and not any(b.value for b in boxes)
    labels = [b.label for b in boxes]
    downloads = [d.proto.label for d in answer.get("download_button")]
    assert downloads == ["Download Markdown", "Download calendar (.ics)"]
    boxes[1].check().run()
    assert not at.exception, at.exception
    plan_id = plan_id_for(Profile.model_validate(PROFILE))
    assert list(UserData(data_dir).plan_items(plan_id).values()) == [True]

    # A restart on a later day: the plan comes back from the conversation, not rebuilt.
    def no_new_plan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a restored plan must not be made again")

    monkeypatch.setattr(Coach, "plan", no_new_plan)
    conv = UserData(data_dir).conversations()[0]
    restarted = open_page()
    restarted.button(key=f"thrive.open.{conv.id}").click().run()
    assert not restarted.exception, restarted.exception
    again = reply(restarted).checkbox
    assert [b.label for b in again] == labels
    assert [b.value for b in again] == [False, True] + [False] * 11
    # Unticked in the restored conversation: saved again.
    again[1].uncheck().run()
    assert list(UserData(data_dir).plan_items(plan_id).values()) == [False]


def test_a_restored_conversation_shows_the_chart_and_cards_without_running_tools(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ask(ask(open_page(), AT_RISK), NICHES)
    niches = niche_names(reply(at))
    conv = UserData(data_dir).conversations()[0]

    def no_tools(*args: object, **kwargs: object) -> None:
        raise AssertionError("a restored result must not be made again")

    monkeypatch.setattr(Coach, "exposure", no_tools)
    monkeypatch.setattr(Coach, "niches", no_tools)
    reloaded = AppTest.from_file(str(APP), default_timeout=180)
    reloaded.query_params["c"] = conv.id
    reloaded.run()
    assert not reloaded.exception, reloaded.exception
    assert sorted(chart_skills(charts(reply(reloaded, 0))[0])) == ["copywriting", "logo design"]
    assert niche_names(reply(reloaded, 1)) == niches
    assert len(tell_me_more(reply(reloaded, 1))) == len(niches)


def test_the_same_plan_twice_in_a_chat_shows_one_set_of_ticks(data_dir: Path) -> None:
    at = ask(ask(open_page(), PLAN), PLAN)
    first, second = reply(at, 0), reply(at, 1)
    assert [b.label for b in first.checkbox] == [b.label for b in second.checkbox]
    second.checkbox[0].check().run()
    assert reply(at, 0).checkbox[0].value is True


# -- the Tools page ------------------------------------------------------------------------


def test_tools_page_checks_the_saved_skills_then_the_ones_typed(data_dir: Path) -> None:
    at = open_tools(open_page())
    assert at.title[0].value == "Coaching tools"
    assert at.text_input(key=tools.SKILLS).value == "copywriting; logo design"
    assert sorted(chart_skills(charts(at.tabs[0])[0])) == ["copywriting", "logo design"]
    at.text_input(key=tools.SKILLS).input("basic data entry; AI ethics consulting")
    at.button[0].click().run()  # the form's "Check"
    assert not at.exception, at.exception
    scores = {r["skill"]: r["score"] for r in charts(at.tabs[0])[0]}
    assert scores["basic data entry"] > scores["AI ethics consulting"]


def test_tools_page_shows_the_evidence_tasks_and_the_occupation(data_dir: Path) -> None:
    UserData(data_dir).save_profile({**PROFILE, "occupation": "court interpreter"})
    at = open_tools(open_page())
    tab = at.tabs[0]
    text = " ".join(m.value for m in tab.markdown)
    assert "Interpreters and Translators" in text and "of its work is exposed" in text
    labels = [e.label for e in tab.expander]
    assert any("O*NET tasks behind" in label and "copywriting" in label for label in labels)
    inside = " ".join(m.value for e in tab.expander for m in e.markdown)
    assert "similarity" in inside and ("exposed" in inside or "not exposed" in inside)
    assert any("GPTs are GPTs" in c.value for c in tab.caption)


def test_tools_page_skills_follow_a_newly_saved_situation(data_dir: Path) -> None:
    at = open_tools(open_page())
    at.text_input(key=situation.SKILLS).input("illustration")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception, at.exception
    assert at.text_input(key=tools.SKILLS).value == "illustration"
    assert chart_skills(charts(at.tabs[0])[0]) == ["illustration"]


def test_tools_page_tell_me_more_opens_a_new_chat_about_the_niche(data_dir: Path) -> None:
    at = open_tools(open_page(), "Niche finder")
    buttons = tell_me_more(at)
    assert len(buttons) >= 3
    niche = niche_names(at.tabs[1])[0]
    buttons[0].click().run()  # the page switches to the chat by itself
    assert not at.exception, at.exception
    assert len(user_messages(at)) == 1 and user_messages(at)[0].startswith("Tell me more")
    assert niche in user_messages(at)[0].replace("\\", "")
    assert "[strategy-" in reply(at).markdown[0].value
    [conv] = UserData(data_dir).conversations()
    assert conv.title.startswith("Tell me more about the niche")


def test_tools_page_plan_keeps_its_dates_and_ticks(data_dir: Path) -> None:
    at = open_tools(open_page(), "30-day plan")
    labels = [b.label for b in at.tabs[2].checkbox]
    assert len(labels) == 13
    today = date.today()
    assert labels[0].startswith(f"{today:%a %d %b}: ")
    at.tabs[2].checkbox[0].check().run()
    # The same plan is the one the chat shows: same dates, same ticks.
    answer = reply(ask(back_to_chat(at), PLAN))
    assert [b.label for b in answer.checkbox] == labels
    assert answer.checkbox[0].value is True


def test_tools_page_offers_a_new_plan_when_the_last_one_ended(data_dir: Path) -> None:
    plan_id = plan_id_for(Profile.model_validate(PROFILE))
    data = UserData(data_dir)
    data.start_plan(plan_id, date.today() - timedelta(days=40))
    data.set_plan_item(plan_id, "assess-score", True)
    at = open_tools(open_page(), "30-day plan")
    assert any("This plan ended on" in i.value for i in at.info)
    assert at.tabs[2].checkbox[0].value is True
    at.button(key="thrive.tools.plan_restart").click().run()
    assert not at.exception, at.exception
    assert not any("This plan ended" in i.value for i in at.info)
    assert at.tabs[2].checkbox[0].label.startswith(f"{date.today():%a %d %b}: ")
    assert not any(b.value for b in at.tabs[2].checkbox)


# -- the parts underneath ------------------------------------------------------------------


def test_plan_start_is_kept_and_an_ended_plan_renews_only_when_asked(tmp_path: Path) -> None:
    data, profile = UserData(tmp_path), Profile.model_validate(PROFILE)
    day = date(2026, 3, 2)
    assert plan_start(data, profile, day, renew_ended=False) == day
    data.set_plan_item(plan_id_for(profile), "tools-try", True)
    later = day + timedelta(days=29)  # the plan's last day
    assert plan_start(data, profile, later, renew_ended=True) == day
    ended = day + timedelta(days=30)
    assert plan_start(data, profile, ended, renew_ended=False) == day
    assert plan_start(data, profile, ended, renew_ended=True) == ended
    assert data.plan_items(plan_id_for(profile)) == {}  # a new plan starts unticked


@pytest.mark.parametrize("intent", ["exposure", "niches", "plan"])
def test_tool_results_read_back_exactly(coach: Coach, intent: str) -> None:
    result = run_intent(coach, intent, "", PROFILE, start=date(2026, 3, 2))  # type: ignore[arg-type]
    back = ToolResult.from_json(json.loads(json.dumps(result.to_json())))
    assert back == result


def test_a_plan_reads_back_with_its_dates_and_ticks(coach: Coach) -> None:
    plan = coach.plan(PROFILE, start=date(2026, 3, 2)).with_progress({"gaps-pick": True})
    assert ActionPlan.from_json(plan.to_json()) == plan
    with pytest.raises(ValueError, match="Not a plan"):
        ActionPlan.from_json({"weeks": []})
    with pytest.raises(ValueError, match="Not a tool result"):
        ToolResult.from_json({"intent": "plan"})


@pytest.mark.parametrize(
    "name", ["AI Ethics Consultant", "Healthcare Data Services", "A 30-day Plan Coach"]
)
def test_tell_me_more_is_a_question_for_the_coach_not_a_tool(name: str) -> None:
    niche = Niche(name, "why", "low", ["strategy-2"], ["a", "b", "c"])
    assert detect_intent(tell_me_more_question(niche)) is None


def test_asking_for_more_niches_still_reaches_the_tool() -> None:
    assert detect_intent("Tell me more about niches for me") == "niches"

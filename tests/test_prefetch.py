"""The page's warm-up: the offline coach's sentence vectors computed ahead of time."""

from __future__ import annotations

from thrive.coaching.coach import Coach
from thrive.knowledge.retrieval import Hit
from thrive.models import extractive


def test_prefetched_guide_leaves_nothing_to_embed_but_the_question(coach: Coach) -> None:
    passages = [Hit(c, 0.0, 0.0).passage() for c in coach.searcher.text_chunks]
    cached = extractive.prefetch(passages)
    assert cached >= sum(len(extractive.split_sentences(p)) for p in passages) > 50
    answer = coach.ask("I write blog posts. Am I at risk?", profile={"skills": ["copywriting"]})
    assert answer.citations
    assert len(extractive._vector_cache) == cached  # every sentence it used was ready

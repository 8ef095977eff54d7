"""LangChain's standard retriever tests against the real hybrid retriever."""

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from thrive.knowledge.retrieval import GuideSearcher, HybridRetriever


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _searcher(self, guide_settings):
        type(self).searcher = GuideSearcher.open(guide_settings)

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"searcher": self.searcher}

    @property
    def retriever_query_example(self) -> str:
        return "How can I protect my writing business from AI?"


def test_documents_carry_section_metadata(guide_settings):
    retriever = HybridRetriever(searcher=GuideSearcher.open(guide_settings), k=4)
    docs = retriever.invoke("Will AI lower my rates?")
    assert len(docs) == 4
    assert docs[0].metadata["section_id"] == "threat-3"
    for doc in docs:
        assert {"section_id", "section_title", "kind", "source"} <= set(doc.metadata)

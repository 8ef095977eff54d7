"""Knowledge layer: the guide (corpus, its structure), ingestion, the Chroma store, retrieval.

Never imports the models layer: backends get passages as data.
"""

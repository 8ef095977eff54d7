"""Base layer: settings, errors, shared data types, the embedding model and storage.

Everything above imports from here; this package imports nothing of Thrive's above it.
"""

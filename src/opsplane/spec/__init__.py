"""Input formats -> the domain model. Every problem carries its file and its path."""

from opsplane.spec.loader import LoadResult, load_paths, load_texts

__all__ = ["LoadResult", "load_paths", "load_texts"]

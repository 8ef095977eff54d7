"""A bounded, thread-safe cache of text -> vector, shared by the sessions of one process.

Hand-written (an OrderedDict and a lock) rather than `functools.lru_cache`: callers look up
many texts at once and encode only the missing ones in one batch, which a per-call
memoiser cannot do; and no cache library is among the dependencies for twenty lines.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np


class VectorCache:
    """At most `max_items` vectors; the least recently used go first."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def vectors(
        self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        """The vectors of `texts`, in order; the missing ones encoded in one call (outside
        the lock, so that sessions do not wait on each other's encoding)."""
        with self._lock:
            found = {t: self._items[t] for t in texts if t in self._items}
            for text in found:
                self._items.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = dict(zip(missing, encode(missing), strict=True))
            found.update(fresh)
            with self._lock:
                self._items.update(fresh)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
        return np.stack([found[t] for t in texts])

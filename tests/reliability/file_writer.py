"""A writer for the atomic-file crash test, run as a subprocess: rewrites one file with
`write_atomic` in a loop, each generation one letter repeated, and prints the generation
after each write.

    python file_writer.py PATH SIZE
"""

from __future__ import annotations

import itertools
import sys

from thrive.base.files import write_atomic

path, size = sys.argv[1], int(sys.argv[2])
for gen in itertools.count(1):
    write_atomic(path, bytes([ord("A") + gen % 26]) * size)
    print(gen, flush=True)

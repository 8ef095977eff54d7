"""A writer for the crash test, run as a subprocess: saves question-and-answer pairs in a
loop and prints each number only after its transaction is committed.

    python storage_writer.py DATA_DIR DATABASE_URL|"" FIRST_NUMBER
"""

from __future__ import annotations

import itertools
import sys

from thrive.base.storage import UserData

data = UserData(sys.argv[1], user_id="writer", database_url=sys.argv[2] or None)
convs = data.conversations()
conv = convs[0].id if convs else data.new_conversation("crash test").id
padding = "x" * 200_000  # big rows: the kill lands inside a write most of the time
for i in itertools.count(int(sys.argv[3])):
    data.add_exchange(conv, f"q{i} {padding}", f"a{i} {padding}", {"n": i})
    print(i, flush=True)

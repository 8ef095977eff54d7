"""The Streamlit page (a face: only `thrive.ui` and `app.py` import Streamlit).

shell          the frame: configuration errors, index check, navigation, shared sidebar
auth           who is served: the local user, or a person signed in with st.login
navigation     the pages; the chat first, other pages (coaching tools) added there
chat           the chat page: messages, streaming answers, empty state
answer         one message: citations, backend, feedback, follow-ups
tool_results   a coaching tool's result in the chat: run, kept with the message, shown again
tools          the tools page: exposure check, niche finder, 30-day plan
conversations  the saved conversations: list, new, rename, export, delete
situation      the "Your situation" profile form
privacy        "Your data": what is kept, where, for whom; delete all
startup        the index check with visible progress, once per process
resources      what is loaded once per process (`st.cache_resource`)
state          what one session remembers; `ask()` queues a question for the chat
text           safe Markdown and labels (pure functions)
page_tools     the coaching tools' results drawn (chart, niche cards, plan checklist)

Importing `thrive.ui.x` loads only `x`: the entry points import `thrive.ui.shell.main`.
"""

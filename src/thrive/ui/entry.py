"""Streamlit entry point inside the package, for `thrive app` outside a checkout (where the
repo's `app.py` is not at hand)."""

from thrive.ui.shell import main

main()

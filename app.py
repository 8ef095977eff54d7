"""Streamlit entry point: `streamlit run app.py` (or `make run`). All logic lives in `thrive`."""

from thrive.ui.shell import main

main()

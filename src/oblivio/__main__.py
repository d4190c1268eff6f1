"""``python -m oblivio`` = the ``oblivio`` command."""
from oblivio.cli import main

main()

"""``python -m imr_audio`` runs the command line."""

from imr_audio.cli import main

main()

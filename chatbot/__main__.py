"""``python -m chatbot``: the ``chatbot`` command. Tested in tests/test_cluster.py (servers started this way)."""

import sys

from chatbot.cli.main import main

sys.exit(main())

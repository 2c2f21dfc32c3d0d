"""Entry point: ``python server.py [--host H] [--port P] [--intents-dir DIR] [--database-url URL]``.

The same as ``chatbot serve``.
"""

import sys

from chatbot.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))

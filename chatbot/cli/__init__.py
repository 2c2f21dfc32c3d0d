"""The ``chatbot`` command: serve (with its worker supervisor and garbage-collector settings), representatives,
and the subcommands' registry.
"""

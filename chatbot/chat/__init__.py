"""The conversation: the /chat and /agent namespaces, the conversation service and its lifecycle, the desk,
routing, timers, what is sent, and the counters /metrics shows.
"""

"""What every layer may use: settings and their parsers, application keys and namespace names, and what several
processes share (cluster, presence, rate limits, guard).
"""

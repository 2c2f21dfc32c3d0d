"""What every layer may use: settings and their parsers, and what several processes share (cluster, presence,
rate limits, guard).
"""

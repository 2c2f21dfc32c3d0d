"""Reading and answering a visitor: intents, the matcher, the understanding readers (red flags, requests,
sentences, synonyms), the bot's decision.
"""

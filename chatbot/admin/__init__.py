"""What admins use: the admin HTTP API and its OpenAPI description, reports, unanswered questions, intent
reloads, the admin commands.
"""
